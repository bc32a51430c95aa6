"""``ridgeline tokens create|list|revoke``: API tokens, managed directly on the server's metadata database.

A new token is printed once, alone on standard output (``TOKEN=$(ridgeline tokens create ...)``); what it is and
how to use it goes to standard error. Only its hash is kept, so no command can show it again.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridgeline.cli.account_services import administration, print_json, when
from ridgeline.cli.common import BackendOption, HomeOption, console, err_console
from ridgeline.domain.accounts import TOKEN_SCOPES
from ridgeline.domain.errors import InvalidArgument

app = typer.Typer(help="API tokens: for scripts, CI, the SDK and MLflow's client.", no_args_is_help=True)
DEFAULT_EXPIRY_DAYS = 90.0
SCOPE_HELP = (
    f"{', '.join(TOKEN_SCOPES)}: read only reads; write also writes and deletes; admin allows all the account may do."
)


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="The account the token acts as."),
    name: str = typer.Option(..., "--name", help="A label: what the token is for (1-100 characters)."),
    scope: str = typer.Option("write", "--scope", help=SCOPE_HELP),
    expires_days: float | None = typer.Option(
        None, "--expires-days", help=f"Days until it expires (at most 3650). \\[default: {DEFAULT_EXPIRY_DAYS:g}]"
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="The token never expires (revoke it when done)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Create a token and print it, once, alone on standard output."""
    with administration(home, backend_uri) as ops:
        if no_expiry and expires_days is not None:
            raise InvalidArgument("give --expires-days or --no-expiry, not both", field="expires_days")
        days = None if no_expiry else DEFAULT_EXPIRY_DAYS if expires_days is None else expires_days
        account = ops.accounts.get_user(user)
        new = ops.accounts.create_token(account, name, scope, days)
        ops.record("tokens create", "create_token", f"token:{new.token.id} of user:{account.name}")
    typer.echo(new.secret)
    expiry = "never expires" if new.token.expires_at is None else f"expires {when(new.token.expires_at)} UTC"
    err_console.print(
        f"Token {new.token.id} for {account.name} (scope {scope}, {expiry}). It is shown only this once. Use it "
        "as RIDGELINE_TRACKING_TOKEN (the SDK, the CLI, ridgeline serve) or MLFLOW_TRACKING_TOKEN (MLflow's client), "
        "or send it as 'Authorization: Bearer <token>'.",
        highlight=False,
        soft_wrap=True,
    )
    if account.disabled:
        err_console.print(f"{account.name} is disabled: the token works once it is enabled.", highlight=False)


@app.command("list")
def list_tokens(
    user: str | None = typer.Option(None, "--user", help="Only this account's tokens."),
    json: bool = typer.Option(False, "--json", help="Print JSON on stdout instead of a table."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Tokens with their prefix, scope and dates; never the token itself."""
    with administration(home, backend_uri) as ops:
        tokens = ops.accounts.list_tokens(None if user is None else ops.accounts.get_user(user))
    if json:
        from ridgeline.server.api.accounts_wire import token_json

        print_json({"tokens": [token_json(token) for token in tokens]})
        return
    table = Table(title="API tokens", title_justify="left")
    table.add_column("id", overflow="fold")
    for column in ("user", "name", "prefix", "scope", "created (UTC)", "expires", "last used", "revoked"):
        table.add_column(column)
    for token in tokens:
        table.add_row(
            token.id,
            token.user_name,
            token.name,
            f"{token.prefix}…",
            token.scope,
            when(token.created_at),
            "never" if token.expires_at is None else when(token.expires_at),
            when(token.last_used_at),
            when(token.revoked_at) if token.revoked_at is not None else "no",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token's id (ridgeline tokens list)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Revoke a token: it stops working at once. Revoking a revoked token changes nothing."""
    with administration(home, backend_uri) as ops:
        token = ops.accounts.revoke_token(token_id)
        ops.record("tokens revoke", "revoke_token", f"token:{token.id} of user:{token.user_name}")
    console.print(
        f"token {token.id} ({token.name}, of {token.user_name}): revoked {when(token.revoked_at)} UTC", highlight=False
    )
