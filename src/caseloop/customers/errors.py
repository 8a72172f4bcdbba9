from caseloop.lib.errors import DomainError, ErrorKind


class CustomerError(DomainError):
    """Base for customer-domain errors the API turns into 4xx."""

    code = "customer_error"
    kind = ErrorKind.INVALID


class InvalidContactPoint(CustomerError):
    code = "invalid_contact_point"

    def __init__(self, kind: str, value: str, reason: str) -> None:
        # `kind` here is the contact point's kind (email, phone…); it shadows the error's
        # ErrorKind on the instance only, so the edges read the class's (see lib.errors).
        self.kind, self.value, self.reason = kind, value, reason  # type: ignore[assignment,misc]
        super().__init__(f"invalid {kind} {value!r}: {reason}")


class CustomerMergeError(CustomerError):
    code = "customer_merge_refused"


class PurchaseImportError(CustomerError):
    code = "purchase_import_refused"

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors[:10]))

    def summary(self) -> str:
        return "import refused"

    def facts(self) -> dict:
        return {"errors": self.errors}
