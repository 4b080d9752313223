"""Jira Cloud and Data Center connector: typed client, wire models, webhook verification and parsing."""

from connectors.jira.adf import AdfNode, adf_from_text
from connectors.jira.client import JiraClient
from connectors.jira.config import JiraDeployment, JiraSite
from connectors.jira.webhooks import (
    IDENTIFIER_HEADER,
    RETRY_HEADER,
    SIGNATURE_HEADER,
    SignatureCheck,
    check_signature,
    parse_webhook,
    remove_comment_text,
    verify_signature,
)

__all__ = [
    "IDENTIFIER_HEADER",
    "RETRY_HEADER",
    "SIGNATURE_HEADER",
    "AdfNode",
    "JiraClient",
    "JiraDeployment",
    "JiraSite",
    "SignatureCheck",
    "adf_from_text",
    "check_signature",
    "parse_webhook",
    "remove_comment_text",
    "verify_signature",
]
