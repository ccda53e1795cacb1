"""The Cloud Foundry error catalogue: one ApiError subclass per CF error used.

ApiError
 ├── InvalidAuthToken (1000, 401)          ├── UnprocessableEntity (10008, 422)
 ├── MessageParseError (1001, 400)         ├── ResourceNotFound (10010, 404)
 ├── BadRequest (1004, 400)                │
 ├── NotFound (10000, 404)                 ├── ServiceUnavailable (10015, 503)
 ├── UnknownError (10001, 500)             ├── OrgSuspended / SpaceSuspended (10017/10019, 403)
 ├── NotAuthenticated (10002, 401)         ├── ResourceBeingDeleted (10020, 422)
 ├── NotAuthorized (10003, 403)            ├── UniquenessError (10016, 422)
 ├── InvalidRequest (10004, 400)           ├── PackageBitsAlreadyUploaded (150004, 400)
 │    └── RequestTimeout (408), RequestHeadersTooLarge (431): server-level, sent by http.edge_protocol
 ├── BadQueryParameter (10005, 400)        ├── BlobstoreUnavailable / BlobstoreError (150006/150007)
 ├── FeatureDisabled (330002, 403)         ├── LabelLimitExceeded / AnnotationLimitExceeded
 ├── PayloadTooLarge (10413, 413)         └── job-side only: AppBitsUploadInvalid, AppPackageInvalid
                                              (→ CachedResourceMissing), ResourceChecksumMismatch,
                                              FilePathInvalid, FileModeInvalid, JobTimeout
Domain code raises these; only capi_packages.http.error_handlers renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class ApiError(Exception):
    """A CF API error: `code`, `title` and `status` come from the class, `detail` from the instance."""

    code: ClassVar[int] = 10001
    name: ClassVar[str] = "UnknownError"
    status: ClassVar[int] = 500
    template: ClassVar[str] = "{0}"

    def __init__(self, *args: Any) -> None:
        self.detail = self.template.format(*args) if args or "{" not in self.template else self.template
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        return f"CF-{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"detail": self.detail, "title": self.title, "code": self.code}


class UnknownError(ApiError):
    code, name, status, template = 10001, "UnknownError", 500, "An unknown error occurred."

    @property
    def title(self) -> str:
        # CC renders uncaught exceptions without the CF- prefix.
        return "UnknownError"


class InvalidAuthToken(ApiError):
    code, name, status, template = 1000, "InvalidAuthToken", 401, "Invalid Auth Token"


class MessageParseError(ApiError):
    code, name, status = 1001, "MessageParseError", 400
    template = "Request invalid due to parse error: {0}"

    def __init__(self, what: str = "invalid request body") -> None:
        super().__init__(what)


class NotFound(ApiError):
    code, name, status, template = 10000, "NotFound", 404, "Unknown request"


class NotAuthenticated(ApiError):
    code, name, status, template = 10002, "NotAuthenticated", 401, "Authentication error"


class NotAuthorized(ApiError):
    code, name, status = 10003, "NotAuthorized", 403
    template = "You are not authorized to perform the requested action"


class BadRequest(ApiError):
    code, name, status, template = 1004, "BadRequest", 400, "Bad request: {0}"


class InvalidRequest(ApiError):
    code, name, status, template = 10004, "InvalidRequest", 400, "The request is invalid"


class RequestTimeout(InvalidRequest):
    # No CC error covers a client too slow to send its request; nginx answers a bare 408.
    status, template = 408, "{0}"


class RequestHeadersTooLarge(InvalidRequest):
    # nginx answers a bare 400/431 for oversized headers; we keep CC's envelope and its 10004.
    status, template = 431, "{0}"


class BadQueryParameter(ApiError):
    code, name, status = 10005, "BadQueryParameter", 400
    template = "The query parameter is invalid: {0}"

    def __init__(self, messages: str | list[str]) -> None:
        # Kept apart: some list endpoints report the same messages as CF-UnprocessableEntity.
        self.messages = messages if isinstance(messages, list) else [messages]
        super().__init__(", ".join(self.messages))


class UnprocessableEntity(ApiError):
    code, name, status, template = 10008, "UnprocessableEntity", 422, "{0}"

    def __init__(self, messages: str | list[str]) -> None:
        if isinstance(messages, list):
            messages = ", ".join(messages)
        super().__init__(messages)


class ResourceNotFound(ApiError):
    code, name, status, template = 10010, "ResourceNotFound", 404, "{0} not found"


class PayloadTooLarge(ApiError):
    # CC's nginx answers a bare 413; we keep the CF envelope so clients can show a reason.
    code, name, status, template = 10413, "RequestEntityTooLarge", 413, "{0}"


class ServiceUnavailable(ApiError):
    code, name, status, template = 10015, "ServiceUnavailable", 503, "{0}"


class UniquenessError(ApiError):
    code, name, status, template = 10016, "UniquenessError", 422, "{0}"


class OrgSuspended(ApiError):
    code, name, status, template = 10017, "OrgSuspended", 403, "The organization is suspended"


class SpaceSuspended(ApiError):
    code, name, status, template = 10019, "SpaceSuspended", 403, "The space is suspended"


class ResourceBeingDeleted(ApiError):
    code, name, status, template = 10020, "ResourceBeingDeleted", 422, "{0}"


class AppPackageInvalid(ApiError):
    code, name, status, template = 150001, "AppPackageInvalid", 422, "The app package is invalid: {0}"


class PackageBitsAlreadyUploaded(ApiError):
    code, name, status = 150004, "PackageBitsAlreadyUploaded", 400
    template = "Bits may be uploaded only once. Create a new package to upload different bits."


class BlobstoreUnavailable(ApiError):
    code, name, status = 150006, "BlobstoreUnavailable", 502
    template = "Failed to perform operation due to blobstore unavailability."


class BlobstoreError(ApiError):
    code, name, status = 150007, "BlobstoreError", 500
    template = "Failed to perform blobstore operation after three retries."


class CachedResourceMissing(AppPackageInvalid):
    # A referenced sha1 the pool lacks: CC passes on its blobstore's text (the local one's here).
    template = "Could not find object '{0}'"

    def __init__(self, sha1: str) -> None:
        super().__init__(sha1)
        self.sha1 = sha1


class ResourceChecksumMismatch(ApiError):
    code, name, status = 150010, "ResourceChecksumMismatch", 422
    template = (
        "One or more cached resources did not match the given checksum. "
        "They have been deleted; please retry package upload."
    )

    def __init__(self, mismatched: Sequence[str] = ()) -> None:
        super().__init__()
        self.mismatched = list(mismatched)  # the pool keys whose blobs are bad, to be removed


class AppBitsUploadInvalid(ApiError):
    code, name, status, template = 160001, "AppBitsUploadInvalid", 400, "The app upload is invalid: {0}"


class FileModeInvalid(ApiError):
    code, name, status = 160003, "AppResourcesFileModeInvalid", 400
    template = "The resource file mode is invalid: {0}"


class FilePathInvalid(ApiError):
    code, name, status = 160004, "AppResourcesFilePathInvalid", 400
    template = "The resource file path is invalid: {0}"


class JobTimeout(ApiError):
    code, name, status, template = 290006, "JobTimeout", 524, "The job execution has timed out."


class FeatureDisabled(ApiError):
    code, name, status, template = 330002, "FeatureDisabled", 403, "Feature Disabled: {0}"


class LabelLimitExceeded(ApiError):
    code, name, status = 390020, "LabelLimitExceeded", 422
    template = "Failed to add {0} labels because it would exceed maximum of {1}"


class AnnotationLimitExceeded(ApiError):
    code, name, status = 390023, "AnnotationLimitExceeded", 422
    template = "Failed to add {0} annotations because it would exceed maximum of {1}"


class CompoundError(ApiError):
    """Several errors answered at once (CC's CompoundError); rendered as one envelope entry each."""

    code, name, status = 10008, "UnprocessableEntity", 422

    def __init__(self, errors: list[ApiError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.detail for e in errors))

    def to_dict(self) -> dict[str, Any]:
        return self.errors[0].to_dict()
