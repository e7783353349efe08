from enum import StrEnum


class AuditAction(StrEnum):
    COMMENT_CREATED = "comment.created"
    COMMENT_UPDATED = "comment.updated"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    ISSUE_ASSIGNEE_CHANGED = "issue.assignee_changed"
    ISSUE_CREATED = "issue.created"
    ISSUE_STATE_CHANGED = "issue.state_changed"
    ISSUE_UPDATED = "issue.updated"
    ISSUE_VOTED = "issue.voted"
    ISSUE_VOTE_WITHDRAWN = "issue.vote_withdrawn"
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"

    def __str__(self) -> str:
        return str(self.value)
