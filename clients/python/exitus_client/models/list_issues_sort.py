from enum import StrEnum


class ListIssuesSort(StrEnum):
    CREATED = "created"
    NUMBER = "number"
    SEVERITY = "severity"
    UPDATED = "updated"
    VALUE_1 = "-created"
    VALUE_3 = "-updated"
    VALUE_5 = "-severity"
    VALUE_7 = "-number"
    VALUE_9 = "-votes"
    VOTES = "votes"

    def __str__(self) -> str:
        return str(self.value)
