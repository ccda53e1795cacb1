"""Server-side commands: serve, worker, migrate, token, users.

They all read the settings `serve` reads (CAPI_* variables, CAPI_CONFIG_FILE or the data dir's
config.toml), so they act on the server's own data. Only `serve` and `migrate` create a data dir or
database; the others refuse when there is none rather than quietly start an empty one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

DATA_DIR_HELP = "Data directory [env CAPI_DATA_DIR; default ./var]."


def _settings(**overrides: Any) -> Any:
    from capi_packages.settings import load_settings

    return load_settings(**overrides)


def _shown(path: Path) -> str:
    text = str(path)
    return text if path.is_absolute() or text.startswith(".") else f"./{text}"


def _create_data_dir(settings: Any) -> None:
    """For serve and migrate: make the data dir if there is none, and say so once."""
    if not settings.data_dir.is_dir():
        settings.data_dir.mkdir(parents=True)
        click.echo(f"created data directory {_shown(settings.data_dir)}", err=True)


def _existing_data(settings: Any, *, database: bool = True, signing_key: bool = False) -> None:
    """Refuse, in one line, when what the command would act on does not exist."""
    if not settings.data_dir.is_dir():
        raise click.ClickException(
            f"no data directory at {_shown(settings.data_dir)} (set CAPI_DATA_DIR or pass --data-dir)"
        )
    if signing_key and not settings.signing_key_file.is_file():
        raise click.ClickException(
            f"no signing key at {_shown(settings.signing_key_file)}: start the server once (capi-packages serve)"
        )
    if not database:
        return
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        # Connecting would create the file: look before.
        db_file = settings.data_dir / "capi.db" if settings.database_url is None else Path(url.database or "")
        if not db_file.is_file():
            raise click.ClickException(
                f"no database at {_shown(db_file)} (start capi-packages serve or run capi-packages migrate "
                "there, or set CAPI_DATABASE_URL to the server's)"
            )
        return
    from capi_packages.db.session import make_engine

    engine = make_engine(settings)
    try:
        migrated = inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()
    if not migrated:
        shown = url.render_as_string(hide_password=True)
        raise click.ClickException(f"the database at {shown} has no tables: run capi-packages migrate")


def _database_answers(settings: Any) -> None:
    """Refuse, in one line naming the setting, when the database cannot be reached."""
    from capi_packages.db.session import make_engine
    from capi_packages.health.checks import NotReady, check_database

    if settings.effective_database_url.startswith("sqlite"):
        return  # a file under the data dir: the data-dir checks speak for it
    engine = make_engine(settings)
    try:
        check_database(engine)
    except NotReady as e:
        raise click.ClickException(str(e)) from e
    finally:
        engine.dispose()


def _blobstore_writable(blobstore: Any) -> None:
    """Refuse, in one line naming the setting, when the blobstore is missing or read-only."""
    from capi_packages.health.checks import NotReady, check_blobstore

    try:
        check_blobstore(blobstore, write=True)
    except NotReady as e:
        raise click.ClickException(str(e)) from e


def _migrate(settings: Any) -> None:
    from capi_packages.db import migrate
    from capi_packages.db.session import make_engine

    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _check_before_prompting(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Runs before --password is prompted for, so that a wrong data dir costs no typing."""
    if not ctx.resilient_parsing:
        _existing_data(_settings(data_dir=value))
    return value


@click.command()
@click.option("--host", default=None, help="Bind address (CAPI_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (CAPI_PORT, default 8080).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
@click.option(
    "--no-worker",
    "no_worker",
    is_flag=True,
    default=None,
    help="Serve the API only; jobs are run by `capi-packages worker` processes (CAPI_WORKER_ENABLED=false).",
)
def serve(host: str | None, port: int | None, data_dir: Path | None, no_worker: bool | None) -> None:
    """Check the database and blobstore, migrate, then serve the API (with a job worker inside
    unless --no-worker).

    Example: capi-packages serve --port 8080 --data-dir ./var
    """
    from capi_packages.app import create_app
    from capi_packages.auth.keys import record_issuer
    from capi_packages.heap import settle_after_startup
    from capi_packages.http.server import serve as serve_app
    from capi_packages.logs import configure_logging

    settings = _settings(host=host, port=port, data_dir=data_dir, worker_enabled=False if no_worker else None)
    configure_logging(settings)
    _create_data_dir(settings)
    _database_answers(settings)
    _migrate(settings)
    app = create_app(settings)
    _blobstore_writable(app.state.blobstore)
    record_issuer(settings.issuer_file, settings.local_token_issuer)
    settle_after_startup()
    serve_app(app, settings)


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
def migrate(data_dir: Path | None) -> None:
    """Upgrade the database schema to the newest revision.

    Example: capi-packages migrate --data-dir ./var
    """
    settings = _settings(data_dir=data_dir)
    _create_data_dir(settings)
    _database_answers(settings)
    _migrate(settings)
    click.echo("database is at the newest revision")


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
@click.option("--once", is_flag=True, help="Run the jobs that are due, then exit.")
def worker(data_dir: Path | None, once: bool) -> None:
    """Run a job worker process (jobs are claimed safely by any number of workers).

    Example: capi-packages worker --data-dir ./var
    """
    from capi_packages.app import build_registry
    from capi_packages.blobstore import make_blobstore
    from capi_packages.db.session import make_engine, make_sessionmaker
    from capi_packages.heap import settle_after_startup
    from capi_packages.jobs.worker import Worker
    from capi_packages.logs import configure_logging
    from capi_packages.metrics.collectors import DatabaseCollector
    from capi_packages.metrics.registry import Metrics
    from capi_packages.metrics.server import start_metrics_server

    settings = _settings(data_dir=data_dir)
    _database_answers(settings)
    _existing_data(settings)
    configure_logging(settings)
    _migrate(settings)
    blobstore = make_blobstore(settings)
    _blobstore_writable(blobstore)
    engine = make_engine(settings)
    sessions, registry, metrics = make_sessionmaker(engine), build_registry(), Metrics()
    metrics.registry.register(DatabaseCollector(sessions, engine, registry.operations, "worker"))
    w = Worker(sessions, settings, blobstore, registry, metrics=metrics)
    if not once and settings.worker_metrics_port:
        start_metrics_server(metrics, settings, settings.worker_metrics_port)
    try:
        if once:
            w.recover_stale()
            click.echo(f"ran {w.run_pending()} job(s)")
        else:
            settle_after_startup()
            w.run_until_signalled(settings.worker_shutdown_grace_seconds)
    finally:
        blobstore.close()
        engine.dispose()


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
@click.option("--user-id", default=None, help="The token's user_id: the user's guid, which roles name (for scripts).")
@click.option("--user", "login", default=None, help="A local user (from `users add`): its guid, name and admin scope.")
@click.option("--user-name", default=None, help="The token's user_name (default: the user id).")
@click.option("--admin", is_flag=True, help="Add cloud_controller.admin.")
@click.option("--scope", "scopes", multiple=True, help="Replace the scopes with exactly these (repeatable).")
@click.option("--ttl", type=int, default=None, help="Lifetime in seconds (default CAPI_TOKEN_TTL_SECONDS, 3600).")
def token(
    data_dir: Path | None,
    user_id: str | None,
    login: str | None,
    user_name: str | None,
    admin: bool,
    scopes: tuple[str, ...],
    ttl: int | None,
) -> None:
    """Print a bearer token that a server using the same data dir accepts (its user_id is the
    guid of a local user with --user, or any string with --user-id).

    Example: curl -H "Authorization: bearer $(capi-packages token --user alice)" localhost:8080/v3/packages
    """
    from capi_packages.auth.keys import load_or_create_signing_key, recorded_issuer
    from capi_packages.auth.tokens import ADMIN, DEFAULT_SCOPES, mint_token

    settings = _settings(data_dir=data_dir)
    _existing_data(settings, database=login is not None, signing_key=True)
    if (user_id is None) == (login is None):
        raise click.UsageError("give exactly one of --user-id and --user")
    if login is not None:
        from capi_packages.login.service import find_login

        with _user_session(data_dir) as session:
            found = find_login(session, login)
        if found is None or found.kind != "user":
            raise click.ClickException(f"no local user named {login!r}")
        user_id, user_name, admin = found.guid, found.username, admin or found.admin
    assert user_id is not None
    chosen = list(scopes) if scopes else [*DEFAULT_SCOPES, *([ADMIN] if admin else [])]
    key = load_or_create_signing_key(settings.signing_key_file)
    click.echo(
        mint_token(
            key,
            # The issuer the server on this data dir expects, whatever this shell's host/port settings.
            issuer=recorded_issuer(settings.issuer_file) or settings.local_token_issuer,
            audience=settings.jwt_audience,
            user_id=user_id,
            user_name=user_name,
            scopes=chosen,
            ttl=ttl or settings.token_ttl_seconds,
        )
    )


@click.group()
def users() -> None:
    """Manage local logins for POST /oauth/token (users, and clients for client_credentials).

    \b
    Example:
      capi-packages users add alice --password s3cret --admin
    """


def _user_session(data_dir: Path | None) -> Any:
    from capi_packages.db.session import make_engine, make_sessionmaker

    settings = _settings(data_dir=data_dir)
    _existing_data(settings)
    _migrate(settings)
    return make_sessionmaker(make_engine(settings))()


@users.command("add")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Password (or client secret).")
@click.option("--admin", is_flag=True, help="Tokens of this login carry cloud_controller.admin.")
@click.option("--client", is_flag=True, help="An OAuth client (client_credentials grant) instead of a user.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help=DATA_DIR_HELP,
    is_eager=True,
    callback=_check_before_prompting,
)
def users_add(username: str, password: str, admin: bool, client: bool, data_dir: Path | None) -> None:
    """Add a login; prints its user guid (the token's user_id, which roles name).

    Example: capi-packages users add alice --password s3cret
    """
    from capi_packages.login.service import add_user

    with _user_session(data_dir) as session:
        try:
            user = add_user(session, username, password, admin=admin, kind="client" if client else "user")
        except ValueError as e:
            raise click.ClickException(str(e)) from e
        session.commit()
        click.echo(user.username if client else user.guid)


@users.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
def users_list(data_dir: Path | None) -> None:
    """List logins: guid, name, kind, admin.

    Example: capi-packages users list
    """
    from capi_packages.login.service import list_users

    with _user_session(data_dir) as session:
        for user in list_users(session):
            click.echo(f"{user.guid}\t{user.username}\t{user.kind}\t{'admin' if user.admin else '-'}")


@users.command("delete")
@click.argument("username")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
def users_delete(username: str, data_dir: Path | None) -> None:
    """Delete a login (its tokens stop refreshing).

    Example: capi-packages users delete alice
    """
    from capi_packages.login.service import delete_user

    with _user_session(data_dir) as session:
        if not delete_user(session, username):
            raise click.ClickException(f"no login named {username!r}")
        session.commit()


@click.group()
def keys() -> None:
    """The key files in <data dir>/keys that every API process of a deployment must share.

    Example: capi-packages keys create --data-dir ./var
    """


@keys.command("create")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
def keys_create(data_dir: Path | None) -> None:
    """Create the keys that are missing (token signing, URL signing, database encryption); print their paths.

    Example: capi-packages keys create --data-dir ./var && rsync -a ./var/keys/ host2:/srv/capi/keys/
    """
    from capi_packages.auth.keys import load_or_create_signing_key
    from capi_packages.auth.secrets import SecretBox
    from capi_packages.auth.signed_urls import load_or_create_secret

    settings = _settings(data_dir=data_dir)
    _create_data_dir(settings)
    key_dir = settings.data_dir / "keys"
    load_or_create_signing_key(settings.signing_key_file)
    load_or_create_secret(key_dir / "url-signing-key")
    SecretBox.from_file(key_dir / "db-encryption-key")
    for path in (settings.signing_key_file, key_dir / "url-signing-key", key_dir / "db-encryption-key"):
        click.echo(_shown(path))


@click.group()
def s3() -> None:
    """The S3 blobstore (CAPI_BLOBSTORE_TYPE=s3).

    Example: CAPI_BLOBSTORE_TYPE=s3 CAPI_S3_BUCKET=capi capi-packages s3 create-bucket
    """


@s3.command("create-bucket")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=DATA_DIR_HELP)
def s3_create_bucket(data_dir: Path | None) -> None:
    """Create the bucket CAPI_S3_BUCKET names, unless it exists (for a local S3-compatible server).

    Example: CAPI_BLOBSTORE_TYPE=s3 CAPI_S3_BUCKET=capi capi-packages s3 create-bucket
    """
    from capi_packages.blobstore import make_blobstore
    from capi_packages.blobstore.base import BlobstoreFailure
    from capi_packages.blobstore.s3 import S3Blobstore

    settings = _settings(data_dir=data_dir)
    if settings.blobstore_type != "s3":
        raise click.ClickException("the blobstore is not S3: set CAPI_BLOBSTORE_TYPE=s3 and CAPI_S3_BUCKET")
    store = make_blobstore(settings)
    assert isinstance(store, S3Blobstore)
    try:
        created = store.create_bucket()
    except BlobstoreFailure as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"{'created' if created else 'found'} bucket {store.bucket}")


def register(main: click.Group) -> None:
    for command in (serve, migrate, worker, token, users, keys, s3):
        main.add_command(command)
