"""What `micromoments uninstall` tells the operator last: the stack retains the table and
both secrets (DeletionPolicy Retain), and how to delete them once sure."""

from __future__ import annotations

from micromoments.ops.uninstall import closing_steps


def test_closing_steps_say_the_secrets_are_retained_and_how_to_delete_them() -> None:
    lines = closing_steps(
        "mm-prod",
        table="mm-prod-Table-1",
        secrets=["arn:aws:secretsmanager:eu-west-1:1:secret:mm-prod/signing-key-AbC"],
    )
    text = "\n".join(lines)
    assert lines[0] == (
        "Now run: sam delete --stack-name mm-prod --config-file infra/samconfig.toml"
    )
    assert "--no-deletion-protection-enabled" in text
    assert "The secrets are retained" in text
    assert (
        "aws secretsmanager delete-secret --secret-id "
        "arn:aws:secretsmanager:eu-west-1:1:secret:mm-prod/signing-key-AbC"
    ) in text


def test_without_configured_secrets_the_stacks_names_are_given() -> None:
    text = "\n".join(closing_steps("mm-staging", table=None, secrets=[]))
    assert "--secret-id mm-staging/signing-key" in text
    assert "--secret-id mm-staging/google-key" in text


def test_the_grant_key_is_named_as_retained_too() -> None:
    text = "\n".join(closing_steps("mm-staging", table=None, secrets=[]))
    assert "--secret-id mm-staging/google-oauth-client" in text
    assert "aws kms schedule-key-deletion --key-id <GrantKeyId>" in text
