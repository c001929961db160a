"""The normalization catalog: vendor events to platform event types, as data.

A rule names the provider key, the vendor's event name and, optionally, values
that fields of the payload must hold (``action``, ``merged``...). Rules for one
event are tried in order, most specific first. Anything unmapped passes through
as ``<providerKey>.<eventName>`` so nothing a vendor sends is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    provider: str
    event: str
    event_type: str
    # Each condition is (alternative dotted paths, required value): any path holding the value satisfies it.
    when: tuple[tuple[tuple[str, ...], Any], ...] = ()

    def matches(self, payload: dict[str, Any]) -> bool:
        return all(any(_lookup(payload, path) == value for path in paths) for paths, value in self.when)

    def describe(self) -> dict[str, Any]:
        return {path[0]: value for path, value in self.when}


def _lookup(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


def _action(value: str) -> tuple[tuple[str, ...], Any]:
    return (("action",), value)


MERGED = (("pull_request.merged", "merged"), True)

RULES: tuple[Rule, ...] = (
    # GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads
    Rule("github", "pull_request", "PullRequestMerged", (_action("closed"), MERGED)),
    Rule("github", "pull_request", "PullRequestClosed", (_action("closed"),)),
    Rule("github", "pull_request", "PullRequestOpened", (_action("opened"),)),
    Rule("github", "pull_request", "PullRequestReopened", (_action("reopened"),)),
    Rule("github", "pull_request", "PullRequestUpdated", (_action("synchronize"),)),
    Rule("github", "pull_request", "PullRequestReadyForReview", (_action("ready_for_review"),)),
    Rule("github", "pull_request_review", "PullRequestReviewSubmitted", (_action("submitted"),)),
    Rule("github", "push", "CodePushed"),
    Rule("github", "create", "TagCreated", ((("ref_type",), "tag"),)),
    Rule("github", "create", "BranchCreated", ((("ref_type",), "branch"),)),
    Rule("github", "delete", "TagDeleted", ((("ref_type",), "tag"),)),
    Rule("github", "delete", "BranchDeleted", ((("ref_type",), "branch"),)),
    Rule("github", "issues", "IssueOpened", (_action("opened"),)),
    Rule("github", "issues", "IssueClosed", (_action("closed"),)),
    Rule("github", "issues", "IssueReopened", (_action("reopened"),)),
    Rule("github", "issue_comment", "IssueCommentCreated", (_action("created"),)),
    Rule("github", "release", "ReleasePublished", (_action("published"),)),
    Rule("github", "workflow_run", "WorkflowRunCompleted", (_action("completed"),)),
    Rule("github", "check_run", "CheckRunCompleted", (_action("completed"),)),
    Rule("github", "deployment", "DeploymentCreated", (_action("created"),)),
    Rule("github", "deployment_status", "DeploymentStatusChanged", (_action("created"),)),
    Rule("github", "repository", "RepositoryCreated", (_action("created"),)),
    Rule("github", "ping", "WebhookPinged"),
    # Stripe: https://docs.stripe.com/api/events/types
    Rule("stripe", "payment_intent.succeeded", "PaymentSucceeded"),
    Rule("stripe", "payment_intent.payment_failed", "PaymentFailed"),
    Rule("stripe", "payment_intent.canceled", "PaymentCanceled"),
    Rule("stripe", "charge.refunded", "ChargeRefunded"),
    Rule("stripe", "charge.dispute.created", "DisputeOpened"),
    Rule("stripe", "invoice.paid", "InvoicePaid"),
    Rule("stripe", "invoice.payment_failed", "InvoicePaymentFailed"),
    Rule("stripe", "customer.created", "CustomerCreated"),
    Rule("stripe", "customer.subscription.created", "SubscriptionCreated"),
    Rule("stripe", "customer.subscription.updated", "SubscriptionUpdated"),
    Rule("stripe", "customer.subscription.deleted", "SubscriptionCanceled"),
    Rule("stripe", "checkout.session.completed", "CheckoutCompleted"),
    # Slack Events API (event name is the inner event.type) and interactivity.
    Rule("slack", "message", "MessagePosted"),
    Rule("slack", "app_mention", "AppMentioned"),
    Rule("slack", "reaction_added", "ReactionAdded"),
    Rule("slack", "member_joined_channel", "ChannelMemberJoined"),
    Rule("slack", "channel_created", "ChannelCreated"),
    Rule("slack", "team_join", "TeamMemberJoined"),
    Rule("slack", "block_actions", "InteractionReceived"),
    Rule("slack", "slash_command", "SlashCommandInvoked"),
    # Shopify topics: https://shopify.dev/docs/api/webhooks
    Rule("shopify", "orders/create", "OrderCreated"),
    Rule("shopify", "orders/paid", "OrderPaid"),
    Rule("shopify", "orders/cancelled", "OrderCancelled"),
    Rule("shopify", "orders/fulfilled", "OrderFulfilled"),
    Rule("shopify", "refunds/create", "RefundCreated"),
    Rule("shopify", "customers/create", "CustomerCreated"),
    Rule("shopify", "products/create", "ProductCreated"),
    Rule("shopify", "products/update", "ProductUpdated"),
    Rule("shopify", "app/uninstalled", "AppUninstalled"),
)

_BY_EVENT: dict[tuple[str, str], list[Rule]] = {}
for _rule in RULES:
    _BY_EVENT.setdefault((_rule.provider, _rule.event), []).append(_rule)


def normalize(provider_key: str, event_name: str, payload: dict[str, Any]) -> str:
    for rule in _BY_EVENT.get((provider_key, event_name), ()):
        if rule.matches(payload):
            return rule.event_type
    return f"{provider_key}.{event_name}"
