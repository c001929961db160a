"""The built-in providers every tenant sees next to its own registrations."""

from __future__ import annotations

from chalicelib.providers.models import AuthModel, Category, Provider, WebhookSignature


def _builtin(
    key: str,
    name: str,
    category: Category,
    auth: AuthModel,
    base_url: str,
    capabilities: list[str],
    signature: WebhookSignature,
) -> Provider:
    return Provider(
        provider_id=f"prov-{key}",
        key=key,
        display_name=name,
        category=category,
        auth_model=auth,
        api_client_id=f"client-{key}-v1",
        capabilities=capabilities,
        base_url=base_url,
        webhook_signature=signature,
        built_in=True,
    )


BUILTIN_PROVIDERS: dict[str, Provider] = {
    p.provider_id: p
    for p in (
        _builtin(
            "github",
            "GitHub",
            Category.SOURCE_CONTROL,
            AuthModel.BEARER_TOKEN,
            "https://api.github.com",
            ["repos.read", "pulls.write", "issues.read", "issues.write", "webhooks.receive"],
            WebhookSignature(scheme="github", header="X-Hub-Signature-256"),
        ),
        _builtin(
            "slack",
            "Slack",
            Category.COMMUNICATION,
            AuthModel.BEARER_TOKEN,
            "https://slack.com/api",
            ["chat.write", "webhooks.receive"],
            WebhookSignature(scheme="slack", header="X-Slack-Signature"),
        ),
        _builtin(
            "stripe",
            "Stripe",
            Category.PAYMENTS,
            AuthModel.BEARER_TOKEN,
            "https://api.stripe.com",
            ["payments.read", "webhooks.receive"],
            WebhookSignature(scheme="stripe", header="Stripe-Signature"),
        ),
        _builtin(
            "shopify",
            "Shopify",
            Category.COMMERCE,
            AuthModel.API_KEY,
            "https://your-store.myshopify.com/admin/api",
            ["orders.read", "webhooks.receive"],
            WebhookSignature(scheme="shopify", header="X-Shopify-Hmac-Sha256"),
        ),
        _builtin(
            "standard-webhooks",
            "Standard Webhooks sender",
            Category.GENERIC,
            AuthModel.BEARER_TOKEN,
            "https://example.invalid",
            ["webhooks.receive"],
            WebhookSignature(scheme="standard-webhooks", header="webhook-signature"),
        ),
        _builtin(
            "twilio-sms",
            "Twilio SMS",
            Category.COMMUNICATION,
            AuthModel.BASIC,
            "https://api.twilio.com",
            ["sms.send", "sms.status"],
            WebhookSignature(scheme="twilio", header="X-Twilio-Signature"),
        ),
        _builtin(
            "jira",
            "Jira",
            Category.PROJECT_MANAGEMENT,
            AuthModel.BASIC,
            "https://your-domain.atlassian.net",
            ["issues.write"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "openai",
            "OpenAI",
            Category.AI,
            AuthModel.BEARER_TOKEN,
            "https://api.openai.com/v1",
            ["models.complete", "models.embed", "models.stream"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "azure-openai",
            "Azure OpenAI",
            Category.AI,
            AuthModel.API_KEY,
            "https://your-resource.openai.azure.com",
            ["models.complete", "models.embed", "models.stream"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "ollama",
            "Ollama",
            Category.AI,
            AuthModel.BEARER_TOKEN,
            "http://localhost:11434/v1",
            ["models.complete", "models.embed", "models.stream"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "aws-ses",
            "Amazon SES",
            Category.COMMUNICATION,
            AuthModel.AWS_IAM,
            "https://email.amazonaws.com",
            ["email.send", "email.status"],
            WebhookSignature(scheme="aws-sns"),
        ),
        _builtin(
            "aws-sns",
            "Amazon SNS SMS",
            Category.COMMUNICATION,
            AuthModel.AWS_IAM,
            "https://sns.amazonaws.com",
            ["sms.send"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "mcp",
            "MCP tool server",
            Category.GENERIC,
            AuthModel.BEARER_TOKEN,
            "https://example.invalid/mcp",
            ["mcp.tools"],
            WebhookSignature(scheme="none"),
        ),
        _builtin(
            "generic-http",
            "Generic HTTP",
            Category.GENERIC,
            AuthModel.BEARER_TOKEN,
            "https://example.invalid",
            ["http.request", "webhooks.receive"],
            WebhookSignature(scheme="hmac", header="X-Signature", algorithm="sha256", encoding="hex", prefix="sha256="),
        ),
    )
}
