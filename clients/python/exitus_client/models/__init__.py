"""Contains all the data models used in inputs/outputs"""

from .audit_action import AuditAction
from .audit_event import AuditEvent
from .audit_event_actor import AuditEventActor
from .audit_event_changes import AuditEventChanges
from .audit_event_changes_additional_property import AuditEventChangesAdditionalProperty
from .audit_event_list import AuditEventList
from .audit_event_resource import AuditEventResource
from .audit_event_resource_type import AuditEventResourceType
from .audit_verification import AuditVerification
from .audit_verification_first_broken import AuditVerificationFirstBroken
from .category import Category
from .comment import Comment
from .comment_list import CommentList
from .customer import Customer
from .customer_list import CustomerList
from .health import Health
from .health_status import HealthStatus
from .invalid_value import InvalidValue
from .issue import Issue
from .issue_list import IssueList
from .issue_transition import IssueTransition
from .list_audit_events_resource_type import ListAuditEventsResourceType
from .list_issues_sort import ListIssuesSort
from .list_issues_state_item import ListIssuesStateItem
from .new_comment import NewComment
from .new_customer import NewCustomer
from .new_issue import NewIssue
from .new_project import NewProject
from .nullable_user_summary_type_0 import NullableUserSummaryType0
from .problem import Problem
from .problem_type import ProblemType
from .project import Project
from .project_list import ProjectList
from .severity import Severity
from .state import State
from .updated_comment import UpdatedComment
from .updated_customer import UpdatedCustomer
from .updated_issue import UpdatedIssue
from .updated_project import UpdatedProject
from .user import User
from .user_list import UserList
from .user_summary import UserSummary

__all__ = (
    "AuditAction",
    "AuditEvent",
    "AuditEventActor",
    "AuditEventChanges",
    "AuditEventChangesAdditionalProperty",
    "AuditEventList",
    "AuditEventResource",
    "AuditEventResourceType",
    "AuditVerification",
    "AuditVerificationFirstBroken",
    "Category",
    "Comment",
    "CommentList",
    "Customer",
    "CustomerList",
    "Health",
    "HealthStatus",
    "InvalidValue",
    "Issue",
    "IssueList",
    "IssueTransition",
    "ListAuditEventsResourceType",
    "ListIssuesSort",
    "ListIssuesStateItem",
    "NewComment",
    "NewCustomer",
    "NewIssue",
    "NewProject",
    "NullableUserSummaryType0",
    "Problem",
    "ProblemType",
    "Project",
    "ProjectList",
    "Severity",
    "State",
    "UpdatedComment",
    "UpdatedCustomer",
    "UpdatedIssue",
    "UpdatedProject",
    "User",
    "UserList",
    "UserSummary",
)
