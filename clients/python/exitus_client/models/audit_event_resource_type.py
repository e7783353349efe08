from enum import StrEnum


class AuditEventResourceType(StrEnum):
    COMMENT = "comment"
    CUSTOMER = "customer"
    ISSUE = "issue"
    PROJECT = "project"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
