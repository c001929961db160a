"""The destinations' own error, in the one hierarchy of ``chalicelib.core.errors``."""

from __future__ import annotations

from chalicelib.core.errors import FieldError, Unprocessable


class DestinationAccessDenied(Unprocessable):
    """The platform cannot write to the destination for this tenant: 422, naming the missing permission.

    ``permission`` is the IAM action (``sqs:SendMessage``) or the policy statement that is missing, so the
    tenant knows what to grant (docs/webhooks-outbound.md "Destinations").
    """

    code = "DESTINATION_ACCESS_DENIED"

    def __init__(self, permission: str, reason: str, field: str = "destination") -> None:
        super().__init__(f"The platform cannot write to the destination: {reason}", [FieldError(field, permission)])
        self.permission = permission
