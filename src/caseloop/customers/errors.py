class CustomerError(Exception):
    """Base for customer-domain errors the API turns into 4xx."""


class InvalidContactPoint(CustomerError):
    def __init__(self, kind: str, value: str, reason: str) -> None:
        self.kind, self.value, self.reason = kind, value, reason
        super().__init__(f"invalid {kind} {value!r}: {reason}")


class CustomerMergeError(CustomerError):
    pass


class PurchaseImportError(CustomerError):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors[:10]))
