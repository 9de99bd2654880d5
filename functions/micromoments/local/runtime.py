"""The local stand-ins of ``micromoments demo`` (and ``serve``), started in-process.

`LocalRuntime` starts moto's server (DynamoDB, SQS, SES, Scheduler, Secrets Manager) and the
package's Calendar v3 server on free loopback ports, creates what a deployment has (the table
from template.yaml, the scan queue and its dead-letter queue, a verified SES sender, the
hourly dispatch schedule, the Google secret and the signing key in Secrets Manager) and
points the process's environment at them, so the real handlers run unchanged: real boto3
against moto over HTTP, real google-api-python-client against the Calendar server on the
domain-wide delegation path. With ``provider="microsoft"`` the package's Graph server
(`local.graph_api`) runs instead of the Calendar server: the app registration's client
secret goes into Secrets Manager and ``MICROMOMENTS_GRAPH_*`` name the server, its tenant
and client, as a Microsoft deployment's configuration does (docs/deploy.md); the org's
``calendar_provider`` (the caller's to set) makes the handlers build the Graph gateway.
``google_credentials="keyless"`` (the default) puts a
credential configuration in the Google secret: the handlers' AWS credentials federate into
the server's stand-in workload identity pool and the service account signs the delegation
JWTs with ``signJwt``; ``"key"`` puts a generated service-account key there. Either way the
server issues tokens only for JWTs signed by the service account and refuses anything else.

Everything it changes (environment variables, the cached `config()` and `wiring` objects,
boto3's default session, the handlers' log level) is put back by `LocalRuntime.stop`.
Resource names carry a random suffix: moto's backends are per process, so two runtimes in
one process (tests) never see each other's data.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Mapping
from contextlib import redirect_stdout
from functools import cache
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

from micromoments.domain.errors import DomainError
from micromoments.local.atomic_moto import serialise_dynamodb
from micromoments.local.moto_items import write_items_directly

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs.type_defs import MessageTypeDef
    from werkzeug.serving import BaseWSGIServer

    from micromoments.local.calendar_api import CalendarServer
    from micromoments.local.graph_api import GraphServer

_R = TypeVar("_R")

LOCAL_EXTRA_HINT = "install the local extra: pip install 'micromoments[local]'"
HOST = "127.0.0.1"
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
FAKE_CREDENTIAL = "local-testing"
GOOGLE_CREDENTIALS = ("keyless", "key")  # what the Google secret holds (docs/google-access.md)
GOOGLE_ACCESS = ("delegation", "oauth")  # oauth: people connect their own calendar
PROVIDERS = ("google", "microsoft")  # the org's calendar_provider: which server runs
MAX_RECEIVE_COUNT = 5  # the scan queue's redrive policy, as in template.yaml

# Standard AWS variables that would send boto3 elsewhere than moto, or to a profile.
_AWS_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "MICROMOMENTS_CALENDAR_API_TOKEN",  # the delegation path runs, not a static token
)


class RuntimeUnavailable(DomainError):
    """The local stand-ins cannot run here (missing extra, busy port); one clear line."""


def require_local_extra() -> None:
    """Raise `RuntimeUnavailable` naming the fix when moto or werkzeug is not installed."""
    try:
        import moto.server  # noqa: F401
        import werkzeug.serving  # noqa: F401
    except ImportError as exc:
        missing = (exc.name or "moto").split(".")[0]
        raise RuntimeUnavailable(
            f"the local stand-ins need {missing}, which is not installed: {LOCAL_EXTRA_HINT}"
        ) from None


def _busy(what: str, port: int, exc: OSError) -> RuntimeUnavailable:
    if exc.errno in (errno.EADDRINUSE, errno.EACCES):
        reason = "is busy" if exc.errno == errno.EADDRINUSE else "is not allowed"
        return RuntimeUnavailable(
            f"cannot start {what}: port {port} on {HOST} {reason}; "
            "choose another port, or 0 for a free one"
        )
    return RuntimeUnavailable(f"cannot start {what} on {HOST}:{port}: {exc.strerror or exc}")


def _listen(host: str, port: int, what: str) -> socket.socket:
    """A listening TCP socket on host:port, or `RuntimeUnavailable` saying why not."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise _busy(what, port, exc) from None
    return listener


class _MotoServer:
    """moto's server (as ThreadedMotoServer runs it), but one whose bind errors reach the
    caller (ThreadedMotoServer would wait forever on a busy port), with no log line per
    request, and whose socket is closed on stop."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        serialise_dynamodb()  # conditional writes atomic, as in DynamoDB
        write_items_directly()  # items written as JSON directly, not through the model
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class Quiet(MotoRequestHandler):
            def log(self, type: str, message: str, *args: Any) -> None:
                return

        class Dispatcher(DomainDispatcherApplication):
            """moto's dispatcher, remembering which backend serves a host: moto lists its
            package directory and tries every URL pattern on each request otherwise."""

            def __init__(self) -> None:
                super().__init__(create_backend_app)
                self.known: dict[str, Any] = {}

            def get_backend_for_host(self, host: str | None) -> Any:
                if host is None:
                    return None
                if host not in self.known:
                    self.known[host] = super().get_backend_for_host(host)
                return self.known[host]

        # Bound here, not by werkzeug, which answers a busy port with sys.exit(1).
        listener = _listen(self.host, self.requested_port, "moto's server")
        try:
            server = make_server(
                self.host, self.requested_port, Dispatcher(), True,
                request_handler=Quiet, fd=listener.fileno(),
            )  # fmt: skip
        finally:
            listener.close()  # the server holds its own duplicate
        self._server = server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05),
            name=f"moto:{server.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("moto's server is not started")
        return f"http://{self.host}:{self._server.port}"

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)


class LocalRuntime:
    """The stand-ins, started by `start` (or ``with``), stopped by `stop`.

    ``moto_port`` and ``calendar_port`` 0 mean a free port; ``calendar_port`` is the
    Calendar API server's, or with ``provider`` microsoft the Graph server's. ``quiet``
    keeps the handlers' logs below WARNING silent and sends the rest to stderr, and
    `invoke` drops the CloudWatch metric lines handlers print, so a command's stdout stays
    its own.
    """

    def __init__(
        self,
        *,
        moto_port: int = 0,
        calendar_port: int = 0,
        domain: str = "example.com",
        quiet: bool = True,
        google_credentials: str = "keyless",
        google_access: str = "delegation",
        signing_key: str | None = None,
        provider: str = "google",
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        if provider == "microsoft" and google_access == "oauth":
            raise ValueError("google_access oauth is for Google: Microsoft Graph runs app-only")
        if google_credentials not in GOOGLE_CREDENTIALS:
            raise ValueError(f"google_credentials must be one of {GOOGLE_CREDENTIALS}")
        if google_access not in GOOGLE_ACCESS:
            raise ValueError(f"google_access must be one of {GOOGLE_ACCESS}")
        self.provider = provider
        self.google_credentials = google_credentials
        self.google_access = google_access
        self._signing_key = signing_key  # the secret's string (hex); None: a fresh one
        suffix = uuid.uuid4().hex[:8]
        self.domain = domain
        self.quiet = quiet
        self.table_name = f"micromoments-local-{suffix}"
        self.scan_queue_name = f"micromoments-scan-{suffix}"
        self.scan_dlq_name = f"micromoments-scan-dlq-{suffix}"
        self.digest_queue_name = f"micromoments-digest-{suffix}"
        self.google_key_secret = f"micromoments/local-{suffix}/google-service-account"
        self.signing_key_secret = f"micromoments/local-{suffix}/signing-key"
        self.oauth_client_secret = f"micromoments/local-{suffix}/google-oauth-client"
        self.graph_secret = f"micromoments/local-{suffix}/graph-client-secret"
        self.grant_key_id = ""  # the KMS key sealing refresh tokens (google_access oauth)
        self.oauth_client_id = ""
        self.schedule_name = f"micromoments-dispatch-{suffix}"
        self.sender = f"micromoments@{domain}"
        self.scan_queue_url = ""
        self.scan_dlq_url = ""
        self.digest_queue_url = ""
        self._moto = _MotoServer(HOST, moto_port)
        self._calendar_port = calendar_port
        self._calendar: CalendarServer | None = None
        self._graph: GraphServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self._extra_env: dict[str, str] = {}
        self._saved_log: tuple[int, IO[str] | None] | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalRuntime:
        if self._started:
            return self
        require_local_extra()
        self._started = True
        try:
            self._moto.start()
            if self.provider == "microsoft":
                self._start_graph()
            else:
                self._start_calendar()
            self._apply_environment(self._base_environment())
            self._provision()
            self._apply_environment(self.environment())
            if self.quiet:
                self._quiet_handlers()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_calendar(self) -> None:
        from micromoments.local.calendar_api import CalendarServer

        what = "the Calendar API server"
        if self._calendar_port:
            _listen(HOST, self._calendar_port, what).close()  # a clear message if busy
        calendar = CalendarServer(require_auth=True, host=HOST, port=self._calendar_port)
        try:
            calendar.start()
        except (OSError, SystemExit):  # werkzeug exits on a port taken meanwhile
            raise RuntimeUnavailable(
                f"cannot start {what}: port {self._calendar_port} on {HOST} is busy"
            ) from None
        self._calendar = calendar

    def _start_graph(self) -> None:
        """The Graph server, with a client secret of its own (never printed)."""
        import secrets

        from micromoments.local.graph_api import GraphServer

        what = "the Graph server"
        if self._calendar_port:
            _listen(HOST, self._calendar_port, what).close()  # a clear message if busy
        graph = GraphServer(
            client_secret=secrets.token_urlsafe(24), host=HOST, port=self._calendar_port
        )
        try:
            graph.start()
        except (OSError, SystemExit):
            raise RuntimeUnavailable(
                f"cannot start {what}: port {self._calendar_port} on {HOST} is busy"
            ) from None
        self._graph = graph

    def stop(self) -> None:
        """Stop both servers and put back what `start` changed (safe to call twice)."""
        if not self._started:
            return
        self._started = False
        # Servers first: a late push notification still on its way (the Calendar server
        # delays some) reaches a handler that is still quiet, never the command's stdout.
        try:
            if self._calendar is not None:
                self._calendar.stop()
            if self._graph is not None:
                self._graph.stop()
            self._moto.stop()
        finally:
            self._restore_handlers()
            self._calendar = self._graph = None
            self._extra_env.clear()
            self._restore_environment()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the handlers see ----------------------------------------------------------------

    @property
    def calendar(self) -> CalendarServer:
        """The Calendar API server (provider google)."""
        if self._calendar is None:
            raise RuntimeError(
                "the local runtime runs the Graph server, not the Calendar API server"
                if self._graph is not None
                else "the local runtime is not started"
            )
        return self._calendar

    @property
    def graph(self) -> GraphServer:
        """The Graph server (provider microsoft)."""
        if self._graph is None:
            raise RuntimeError(
                "the local runtime runs the Calendar API server, not the Graph server"
                if self._calendar is not None
                else "the local runtime is not started"
            )
        return self._graph

    @property
    def moto_url(self) -> str:
        return self._moto.url

    def _base_environment(self) -> dict[str, str]:
        """AWS pointed at moto with fake credentials (what provisioning needs)."""
        return {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
            "AWS_SESSION_TOKEN": FAKE_CREDENTIAL,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # no profile, config or credentials file of the machine: nothing reaches AWS
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def environment(self) -> dict[str, str]:
        """Every variable the handlers and other ``micromoments`` commands need to use these
        stand-ins (what ``serve`` prints as exports)."""
        return {
            **self._base_environment(),
            "MICROMOMENTS_TABLE_NAME": self.table_name,
            **self._calendar_environment(),
            "MICROMOMENTS_SIGNING_KEY_SECRET": self.signing_key_secret,
            "MICROMOMENTS_SCAN_QUEUE_URL": self.scan_queue_url,
            "MICROMOMENTS_DIGEST_QUEUE_URL": self.digest_queue_url,
            **self._oauth_environment(),
            **self._extra_env,
        }

    def _calendar_environment(self) -> dict[str, str]:
        """The calendar server: Google's Calendar API and secret, or the Graph app
        registration (its tenant, client and the secret's name) and server."""
        if self.provider == "microsoft":
            graph = self.graph
            return {
                "MICROMOMENTS_GRAPH_API_URL": graph.base_url,
                "MICROMOMENTS_GRAPH_AUTHORITY": graph.authority,
                "MICROMOMENTS_GRAPH_TENANT_ID": graph.tenant,
                "MICROMOMENTS_GRAPH_CLIENT_ID": graph.client_id,
                "MICROMOMENTS_GRAPH_SECRET": self.graph_secret,
            }
        calendar = self.calendar
        return {
            "MICROMOMENTS_CALENDAR_API_URL": calendar.base_url,
            "MICROMOMENTS_GOOGLE_TOKEN_URI": calendar.token_uri,
            "MICROMOMENTS_GOOGLE_KEY_SECRET": self.google_key_secret,
        }

    def _oauth_environment(self) -> dict[str, str]:
        """Per-person OAuth on the Calendar server's endpoints (google_access oauth)."""
        if not self.grant_key_id:
            return {}
        calendar = self.calendar
        return {
            "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET": self.oauth_client_secret,
            "MICROMOMENTS_GRANT_KEY_ID": self.grant_key_id,
            "MICROMOMENTS_GOOGLE_AUTHORIZE_URI": calendar.authorize_uri,
            "MICROMOMENTS_GOOGLE_REVOKE_URI": calendar.revoke_uri,
        }

    def allow_redirect(self, uri: str) -> None:
        """Let the OAuth client redirect back to ``uri`` (the site's callback)."""
        self.calendar.consent.add_redirect_uri(self.oauth_client_id, uri)

    def use_environment(self, values: Mapping[str, str]) -> None:
        """Set more variables for these stand-ins (the site's address, the outbox): part
        of `environment` from now on, put back by `stop` like the others."""
        if not self._started:
            raise RuntimeError("the local runtime is not started")
        self._extra_env.update(values)
        self._apply_environment(values)

    def invoke(
        self, handler: Callable[[Any, LambdaContext], _R], event: Any, *, function: str
    ) -> _R:
        """Call a Lambda handler as Lambda would: a fresh context per invocation. When
        quiet, what it prints on stdout (CloudWatch EMF metric lines) goes nowhere."""
        context = lambda_context(function)
        if not self.quiet:
            return handler(event, context)
        with (
            open(os.devnull, "w", encoding="utf-8") as sink,
            redirect_stdout(sink),
            warnings.catch_warnings(),
        ):
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            return handler(event, context)

    # -- environment and caches ---------------------------------------------------------------

    def _apply_environment(self, values: Mapping[str, str]) -> None:
        names = [*values, *_AWS_CLEARED]
        names += [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]  # per service
        for name in names:
            if name not in self._saved_env:
                self._saved_env[name] = os.environ.get(name)
        for name in _AWS_CLEARED:
            os.environ.pop(name, None)
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
            del os.environ[name]
        os.environ.update(values)
        _reset_caches()

    def _restore_environment(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        _reset_caches()

    def _quiet_handlers(self) -> None:
        from micromoments.observability import logger

        handler = logger.registered_handler
        stream: IO[str] | None = None
        if isinstance(handler, logging.StreamHandler):
            stream = handler.setStream(sys.stderr)
        self._saved_log = (logger.log_level, stream)
        logger.setLevel(logging.WARNING)

    def _restore_handlers(self) -> None:
        if self._saved_log is None:
            return
        from micromoments.observability import logger

        level, stream = self._saved_log
        self._saved_log = None
        logger.setLevel(level)
        handler = logger.registered_handler
        if stream is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)

    # -- provisioning -------------------------------------------------------------------------

    def _provision(self) -> None:
        """Create the table, queues, SES sender, schedule and secrets in moto."""
        import boto3

        from micromoments.adapters.dynamo import create_table
        from micromoments.adapters.secrets import ensure_master_key

        create_table(boto3.client("dynamodb"), self.table_name)
        _index_queries_by_partition(self.table_name)

        sqs = boto3.client("sqs")
        self.scan_dlq_url = sqs.create_queue(QueueName=self.scan_dlq_name)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.scan_dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        self.scan_queue_url = sqs.create_queue(
            QueueName=self.scan_queue_name,
            Attributes={"VisibilityTimeout": "60", "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        self.digest_queue_url = sqs.create_queue(
            QueueName=self.digest_queue_name, Attributes={"VisibilityTimeout": "60"}
        )["QueueUrl"]

        boto3.client("ses").verify_email_identity(EmailAddress=self.sender)

        # The hourly dispatch schedule, as deployed; locally the demo plays its part.
        boto3.client("scheduler").create_schedule(
            Name=self.schedule_name,
            ScheduleExpression="cron(0 * * * ? *)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:micromoments-dispatch",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/micromoments-scheduler",
                "Input": '{"kind": "dispatch", "scheduled_time": "<aws.scheduler.scheduled-time>"}',
            },
        )

        secrets = boto3.client("secretsmanager")
        if self.provider == "microsoft":  # the app registration's client secret, as deployed
            secrets.create_secret(Name=self.graph_secret, SecretString=self.graph.client_secret)
        else:
            secrets.create_secret(
                Name=self.google_key_secret, SecretString=json.dumps(self._google())
            )
        if self._signing_key is None:
            ensure_master_key(self.signing_key_secret, client=secrets)
        else:  # the demo's key again (`serve` after `demo`): its emails' links work
            secrets.create_secret(Name=self.signing_key_secret, SecretString=self._signing_key)
        if self.google_access == "oauth":
            self._provision_oauth()

    def _provision_oauth(self) -> None:
        """The OAuth client (on the Calendar server, its secret in moto) and the KMS key
        that seals people's refresh tokens."""
        import boto3

        client = self.calendar.oauth_client()
        self.oauth_client_id = client.client_id
        boto3.client("secretsmanager").create_secret(
            Name=self.oauth_client_secret, SecretString=json.dumps(client.info())
        )
        key = boto3.client("kms").create_key(Description="micromoments grants (local)")
        self.grant_key_id = key["KeyMetadata"]["KeyId"]

    def enable_oauth(self) -> None:
        """Per-person OAuth on a running runtime (the browser tests' shared one): the
        client, the key and the variables that name them; the org setting is the
        caller's."""
        if not self.grant_key_id:
            self._provision_oauth()
            self.google_access = "oauth"
        self.use_environment(self._oauth_environment())

    def signing_key(self) -> str:
        """The signing key secret's string, as `serve` can be given it again."""
        import boto3

        found = boto3.client("secretsmanager").get_secret_value(SecretId=self.signing_key_secret)
        return str(found["SecretString"])

    def _google(self) -> dict[str, Any]:
        """What the Google secret holds: a credential configuration trusting the handlers'
        AWS credentials as the scan role's, or a service-account key."""
        if self.google_credentials == "key":
            return self.calendar.service_account_key()
        from micromoments.local.calendar_api.aws_signature import AwsCaller

        role = f"arn:aws:sts::{ACCOUNT}:assumed-role/micromoments-scan/local"
        caller = AwsCaller(FAKE_CREDENTIAL, FAKE_CREDENTIAL, FAKE_CREDENTIAL, role)
        return self.calendar.credential_configuration([caller], aws_account=ACCOUNT)


def sqs_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """An SQS message as the Lambda event source delivers it to a consumer."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def lambda_context(function: str) -> LambdaContext:
    """A context as Lambda passes one, with a fresh request id."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    context = LambdaContext()
    context._function_name = function
    context._function_version = "$LATEST"
    context._invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    context._memory_limit_in_mb = 512
    context._aws_request_id = str(uuid.uuid4())
    context._log_group_name = f"/aws/lambda/{function}"
    context._log_stream_name = "local"
    return context


def _index_queries_by_partition(table_name: str) -> None:
    """Let moto answer a Query on this table from the queried partition alone.

    moto's Query sorts the whole table and compares every item's hash key on each call, so
    with a few thousand mirror items every Query of a scan costs a tenth of a second of
    CPU, most of the demo's time. The result is the same when only the partition's items
    are considered (moto filters to the hash key, then sorts by range key, anyway), so this
    table's instance gets a subclass that hands `Table.query` just those. Only this table
    changes, and only while moto's internals look as expected; otherwise nothing does.
    """
    try:
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.table import Table

        table = dynamodb_backends[ACCOUNT][REGION].tables[table_name]
    except (ImportError, KeyError, AttributeError):
        return
    if type(table) is Table and table.range_key_attr and isinstance(table.items, dict):
        table.__class__ = _partition_query_table()


@cache
def _partition_query_table() -> type:
    from moto.dynamodb.models.table import Table

    queried = threading.local()  # moto's server handles each request on its own thread
    index_position = 6  # Table.query(hash_key, range_comparison, …, index_name, …)

    class PartitionQueryTable(Table):
        def query(self, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            index_name = args[index_position] if len(args) > index_position else None
            if hash_key is None or index_name or kwargs.get("index_name"):
                return super().query(hash_key, *args, **kwargs)
            queried.hash_key = hash_key
            try:
                return super().query(hash_key, *args, **kwargs)
            finally:
                queried.hash_key = None

        def all_items(self) -> Any:
            hash_key = getattr(queried, "hash_key", None)
            if hash_key is None:
                return super().all_items()
            return list(self.items.get(hash_key, {}).values())

    return PartitionQueryTable


def _reset_caches() -> None:
    """Forget what was built from the previous environment (settings, clients)."""
    import boto3

    from micromoments import wiring
    from micromoments.config import config

    boto3.DEFAULT_SESSION = None
    config.cache_clear()
    for built in vars(wiring).values():  # every adapter and key wiring caches
        clear = getattr(built, "cache_clear", None)
        if callable(clear):
            clear()
