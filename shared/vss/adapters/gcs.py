"""Cloud Storage blob store, including V4 signed URLs.

Production signs through IAM signBlob with the function's own service account (no key file);
locally a generated key in `.vss/signer-key.json` signs, and URLs point at fake-gcs-server.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import google.auth
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import Request
from google.cloud import storage  # type: ignore[attr-defined]
from google.oauth2 import service_account

from vss.adapters import permissions
from vss.errors import FileIoError, NotFound

_TRANSIENT = (gexc.ServiceUnavailable, gexc.TooManyRequests, gexc.InternalServerError,
              gexc.GatewayTimeout, ConnectionError)


class GcsBlobStore:
    def __init__(
        self,
        client: storage.Client,
        *,
        public_url: str | None = None,
        signer_key_file: Path | None = None,
    ) -> None:
        self._client = client
        self._public_url = public_url or "https://storage.googleapis.com"
        self._signer = (
            service_account.Credentials.from_service_account_file(str(signer_key_file))
            if signer_key_file else None
        )

    @classmethod
    def connect(
        cls, project: str, emulator_host: str | None, public_url: str | None,
        signer_key_file: Path | None,
    ) -> GcsBlobStore:
        if emulator_host:
            client = storage.Client(
                project=project, credentials=AnonymousCredentials(),
                client_options={"api_endpoint": emulator_host},
            )
        else:
            client = storage.Client(project=project)
        return cls(client, public_url=public_url, signer_key_file=signer_key_file)

    def _blob(self, bucket: str, name: str, generation: int | None = None) -> storage.Blob:
        return self._client.bucket(bucket).blob(name, generation=generation)

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> int:
        permissions.used("storage.objects.create", permissions.bucket(bucket))
        blob = self._blob(bucket, name)
        try:
            blob.upload_from_string(data, content_type=content_type)
        except _TRANSIENT as exc:
            raise FileIoError(f"Writing {name} failed: {exc}", details={"blob": name}) from exc
        # The upload's answer is the new object resource; its generation names these bytes.
        if blob.generation is None:
            raise FileIoError(f"Writing {name} returned no generation.", details={"blob": name})
        return int(blob.generation)

    def read(self, bucket: str, name: str, generation: int | None = None) -> bytes:
        permissions.used("storage.objects.get", permissions.bucket(bucket))
        try:
            return self._blob(bucket, name, generation).download_as_bytes()
        except gexc.NotFound as exc:
            details: dict[str, object] = {"blob": name}
            if generation is not None:
                details["generation"] = generation
            raise NotFound("File not found.", details=details) from exc
        except _TRANSIENT as exc:
            raise FileIoError(f"Reading {name} failed: {exc}", details={"blob": name}) from exc

    def generation(self, bucket: str, name: str) -> int | None:
        permissions.used("storage.objects.get", permissions.bucket(bucket))
        try:
            blob = self._client.bucket(bucket).get_blob(name)
        except _TRANSIENT as exc:
            raise FileIoError(f"Reading {name} failed: {exc}", details={"blob": name}) from exc
        return int(blob.generation) if blob is not None and blob.generation else None

    def exists(self, bucket: str, name: str) -> bool:
        permissions.used("storage.objects.get", permissions.bucket(bucket))
        return self._blob(bucket, name).exists()

    def _signing_kwargs(self) -> dict[str, object]:
        if self._signer is not None:
            return {"credentials": self._signer}
        credentials, _ = google.auth.default()
        if not credentials.valid:
            credentials.refresh(Request())
        if hasattr(credentials, "sign_bytes") and hasattr(credentials, "signer_email"):
            return {"credentials": credentials}
        # Compute/metadata credentials cannot sign locally: IAM signBlob does it for us.
        return {
            "service_account_email": credentials.service_account_email,  # type: ignore[attr-defined]
            "access_token": credentials.token,
        }

    def signed_download_url(self, bucket: str, name: str, ttl_seconds: int) -> str:
        # Signed through IAM signBlob by this identity, which the URL's GET then acts as.
        permissions.used("iam.serviceAccounts.signBlob", permissions.SELF)
        permissions.used("storage.objects.get", permissions.bucket(bucket))
        return self._blob(bucket, name).generate_signed_url(
            version="v4", expiration=timedelta(seconds=ttl_seconds), method="GET",
            api_access_endpoint=self._public_url, **self._signing_kwargs(),
        )

    def signed_upload_url(
        self, bucket: str, name: str, *, content_type: str, size: int, ttl_seconds: int
    ) -> tuple[str, dict[str, str]]:
        """A V4 PUT URL that admits exactly `size` bytes of `content_type`, once.

        Both conditions are signed headers, so the client must send them as given: the length
        range makes Cloud Storage refuse any other size, and `x-goog-if-generation-match: 0`
        (create only) refuses a second PUT of the URL with 412, so the bytes the upload check
        validated cannot be replaced through the same URL before it expires.
        """
        permissions.used("iam.serviceAccounts.signBlob", permissions.SELF)
        permissions.used("storage.objects.create", permissions.bucket(bucket))
        conditions = {"x-goog-content-length-range": f"{size},{size}",
                      "x-goog-if-generation-match": "0"}
        # A copy: the library adds Content-Type and Host to the dict it is given, and Host is
        # not the client's to send (browsers may not; any other client derives it from the URL).
        url = self._blob(bucket, name).generate_signed_url(
            version="v4", expiration=timedelta(seconds=ttl_seconds), method="PUT",
            content_type=content_type, headers=dict(conditions),
            api_access_endpoint=self._public_url, **self._signing_kwargs(),
        )
        return url, {"Content-Type": content_type, **conditions}
