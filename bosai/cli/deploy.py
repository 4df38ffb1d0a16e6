"""``bosai deploy …``: the HTTPS proxy's configuration and a certificate for trials; the
runner is ``python -m deploy.runner`` (or the systemd units in ``deploy/systemd/``)."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    cli.add_command(deploy)


@click.group("deploy")
def deploy() -> None:
    """The proxy in front of several dashboard processes."""


@deploy.command("proxy-config")
@click.option(
    "--app", "apps", multiple=True, required=True, help="host:port of a dashboard process."
)
@click.option("--listen", default="*:443", show_default=True, help="The HTTPS address.")
@click.option("--certificate", required=True, help="PEM file: certificate chain and key.")
@click.option("--redirect-listen", help="A plain-HTTP address that redirects to HTTPS (e.g. *:80).")
@click.option("--out", type=click.Path(path_type=Path), help="Write here (default: stdout).")
def proxy_config(
    apps: tuple[str, ...],
    listen: str,
    certificate: str,
    redirect_listen: str | None,
    out: Path | None,
) -> None:
    """HAProxy's configuration (checked with `haproxy -c` when written to a file)."""
    from deploy import proxy

    text = proxy.render_config(
        proxy.apps_at(apps), listen=listen, certificate=certificate, redirect_listen=redirect_listen
    )
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    proxy.check_config(out)
    click.echo(f"{out}: {len(apps)} app processes behind {listen}")


@deploy.command("certificate")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--host", "hosts", multiple=True, default=("localhost",), show_default=True)
@click.option("--days", type=int, default=30, show_default=True)
def certificate(out: Path, hosts: tuple[str, ...], days: int) -> None:
    """A self-signed certificate and key (one PEM) for a trial on one machine — never for
    production, where the city's certificate goes."""
    from deploy import proxy

    proxy.self_signed_certificate(out, hosts, days)
    click.echo(f"{out}: self-signed for {', '.join(hosts)}, valid {days} days")
