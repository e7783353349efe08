from enum import StrEnum


class Category(StrEnum):
    BUG = "bug"
    FEATURE = "feature"
    IMPROVEMENT = "improvement"
    QUESTION = "question"
    TASK = "task"

    def __str__(self) -> str:
        return str(self.value)
