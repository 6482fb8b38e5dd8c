"""What tests share: fakes of the ports, the fake Gemini server, the local stack's
endpoints, log capture, data generators and paths. Tests import helpers only from here."""
