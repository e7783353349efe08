from enum import StrEnum


class ListAuditEventsResourceType(StrEnum):
    COMMENT = "comment"
    CUSTOMER = "customer"
    ISSUE = "issue"
    PROJECT = "project"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
