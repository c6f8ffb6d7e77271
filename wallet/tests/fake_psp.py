"""A local HTTPS server with mutual TLS that answers like a PSP's API Pix, for the real adapter.

``fake_psp`` starts one on 127.0.0.1 at a free port, with a throwaway CA, a server certificate
for 127.0.0.1 and a client certificate, and points the ``PIX_*`` settings at it. A client
without a certificate from that CA is refused during the handshake (``ssl.CERT_REQUIRED``) and
counted in ``refused_handshakes``; every request that gets through is recorded. It serves:

    POST /oauth/token                 HTTP Basic CLIENT_ID:CLIENT_SECRET, grant_type form
    PUT  /v2/cob/{txid}               creates an ATIVA charge (fixed criacao, loc, BR Code)
    GET  /v2/cob/{txid}               the charge, with its pix array once paid
    PUT  /v2/webhook/{chave}          remembers the webhookUrl per key
    PUT  /v3/gn/pix/{idEnvio}         Efí's envio; 409 id_envio_duplicado for a used id
    GET  /v2/gn/pix/enviados/id-envio/{idEnvio}

Tell it what to do before the call::

    fake_psp.expire_tokens()                  # the next API call gets 401
    fake_psp.fail_next(503, times=2)          # two 503s, then normal answers again
    fake_psp.fail_next(500, on="token")       # the token endpoint fails once
    fake_psp.answer_slowly(1.0)               # holds the next API answer back
    fake_psp.pay(txid)                        # adds a pix to the charge; calls no webhook
    fake_psp.stop()                           # nothing listens any more: connection refused

Certificates are made with ``cryptography``, which the project already installs through
Daphne (Twisted's TLS extra); no new dependency.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wallet.brcode import build_dynamic

CLIENT_ID = "atende-app-7f3a9c"
CLIENT_SECRET = "psp-secret-4b1d2e8f90"
RECEIVER_KEY = "pix+recebimentos@atende.com.br"
WEBHOOK_SECRET = "whk-secret-51c0ffee"
TOKEN_LIFETIME = 3600
CREATED_AT = "2024-05-02T13:04:05.123Z"
SENT_AT = "2024-05-02T13:04:06.000Z"
PAID_AT = "2024-05-02T10:15:00.358-03:00"
ISPB = "09089356"

Target = Literal["api", "token"]

_TXID = re.compile(r"[A-Za-z0-9]{26,35}")
_ID_ENVIO = re.compile(r"[A-Za-z0-9]{1,35}")
_VALOR = re.compile(r"\d{1,10}\.\d{2}")


@dataclass(frozen=True)
class PspCertificates:
    """PEM files: the PSP's CA and server certificate, our client certificate, and strangers."""

    ca_file: Path
    server_cert_file: Path
    server_key_file: Path
    client_cert_file: Path
    client_key_file: Path
    # Another CA, and a client certificate it signed: valid TLS, but not the PSP's.
    other_ca_file: Path
    stranger_cert_file: Path
    stranger_key_file: Path


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    # Header names lower-cased: HTTP does not care about their case, and urllib changes it.
    headers: dict[str, str]
    body: Any  # JSON decoded, a dict for a form, else the text


@dataclass(frozen=True)
class _Failure:
    status: int
    body: dict[str, Any] | None
    target: Target
    delay: float = 0.0


def location_for(txid: str) -> str:
    return f"pix.fake-psp.invalid/qr/v2/{txid.lower()}"


def br_code_for(txid: str) -> str:
    """The pixCopiaECola the fake answers for ``txid``: a real dynamic BR Code."""
    return build_dynamic(
        location=location_for(txid), merchant_name="FAKE PSP", merchant_city="SAO PAULO"
    )


def end_to_end_id_for(reference: str) -> str:
    """A well-formed 32-character end-to-end id: E, ISPB, yyyyMMddHHmm, 11 characters."""
    return f"E{ISPB}202405021304{hashlib.sha256(reference.encode()).hexdigest()[:11]}"


class FakePsp:
    def __init__(self, certificates: PspCertificates) -> None:
        self.certificates = certificates
        self.requests: list[RecordedRequest] = []
        self.refused_handshakes = 0
        self.issued_tokens: list[str] = []
        self.charges: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, str] = {}
        self.envios: dict[str, dict[str, Any]] = {}
        # What PUT /v3/gn/pix answers; a test may set NAO_REALIZADO or REALIZADO.
        self.envio_status = "EM_PROCESSAMENTO"
        self.omit_copia_e_cola = False
        self._valid_tokens: set[str] = set()
        self._failures: deque[_Failure] = deque()
        self._lock = threading.Lock()
        self._refusals = threading.Condition(self._lock)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificates.server_cert_file, certificates.server_key_file)
        context.load_verify_locations(certificates.ca_file)
        # The point of the fake: no client certificate from the PSP's CA, no conversation.
        context.verify_mode = ssl.CERT_REQUIRED
        self._server = _MutualTlsServer(("127.0.0.1", 0), self._handler_class(), context, self)
        # A short poll keeps shutdown() quick; the default half second adds up across tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._running = False

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._server.shutdown()
            self._running = False
        self._server.server_close()

    # --- What tests tell it -------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far stops working, as if it had expired at the PSP."""
        with self._lock:
            self._valid_tokens.clear()

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        on: Target = "api",
    ) -> None:
        if body is None:
            body = {
                "type": "https://pix.bcb.gov.br/api/v2/error/ServicoIndisponivel",
                "title": "Serviço Indisponível",
                "status": status,
                "detail": "Serviço não está disponível no momento.",
            }
        with self._lock:
            self._failures.extend(_Failure(status, body, on) for _ in range(times))

    def answer_slowly(self, seconds: float, *, on: Target = "api") -> None:
        with self._lock:
            self._failures.append(_Failure(0, None, on, delay=seconds))

    def pay(
        self,
        txid: str,
        *,
        valor: str | None = None,
        end_to_end_id: str | None = None,
        horario: str = PAID_AT,
    ) -> dict[str, Any]:
        """Record a PIX paid into the charge (CONCLUIDA from now on); returns the pix item."""
        with self._lock:
            charge = self.charges[txid]
            entry = {
                "endToEndId": end_to_end_id or end_to_end_id_for(txid),
                "txid": txid,
                "valor": valor or charge["valor"]["original"],
                "horario": horario,
                "infoPagador": "Pagamento Atende",
            }
            charge.setdefault("pix", []).append(entry)
            charge["status"] = "CONCLUIDA"
            return entry

    def wait_for_refused_handshakes(self, count: int, timeout: float = 5.0) -> int:
        """The refusal is counted in the server's thread, which may lag the client's error."""
        with self._refusals:
            self._refusals.wait_for(lambda: self.refused_handshakes >= count, timeout=timeout)
            return self.refused_handshakes

    def bearer_tokens(self) -> list[str]:
        """The bearer token of each recorded API request, in order."""
        return [
            request.headers.get("authorization", "").removeprefix("Bearer ")
            for request in self.requests
            if request.path != "/oauth/token"
        ]

    # --- Serving ------------------------------------------------------------------------

    def _refused(self) -> None:
        with self._refusals:
            self.refused_handshakes += 1
            self._refusals.notify_all()

    def _next_failure(self, target: Target) -> _Failure | None:
        with self._lock:
            if self._failures and self._failures[0].target == target:
                return self._failures.popleft()
        return None

    def _answer(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        target: Target = "token" if path == "/oauth/token" else "api"
        failure = self._next_failure(target)
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            else:
                return failure.status, failure.body
        if target == "token":
            return self._token(method, headers, raw)
        if not self._authorized(headers):
            return 401, _problem(
                401, "AcessoNegado", "Não autorizado", "Token inválido ou expirado."
            )
        body = _json_or_none(raw)
        if match := re.fullmatch(r"/v2/cob/([^/]+)", path):
            txid = match.group(1)
            if method == "PUT":
                return self._create_charge(txid, body)
            if method == "GET":
                return self._read_charge(txid)
        if (match := re.fullmatch(r"/v2/webhook/([^/]+)", path)) and method == "PUT":
            return self._register_webhook(unquote(match.group(1)), body)
        if (match := re.fullmatch(r"/v3/gn/pix/([^/]+)", path)) and method == "PUT":
            return self._send(match.group(1), body)
        if (
            match := re.fullmatch(r"/v2/gn/pix/enviados/id-envio/([^/]+)", path)
        ) and method == "GET":
            return self._read_envio(match.group(1))
        return 404, _problem(404, "NaoEncontrado", "Não Encontrado", "Entidade não encontrada.")

    def _token(
        self, method: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(raw.decode(errors="replace"))
        if method != "POST" or headers.get("authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "Invalid credentials"}
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            token = f"fake-token-{len(self.issued_tokens) + 1}"
            self.issued_tokens.append(token)
            self._valid_tokens.add(token)
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": "cob.read cob.write webhook.write pix.send gn.pix.send.read",
        }

    def _authorized(self, headers: dict[str, str]) -> bool:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            return token in self._valid_tokens

    def _create_charge(self, txid: str, body: Any) -> tuple[int, dict[str, Any] | None]:
        violations = _charge_violations(txid, body)
        if violations:
            problem = _problem(
                400,
                "CobOperacaoInvalida",
                "Cobrança inválida.",
                "A requisição que busca criar uma cobrança não respeita o schema.",
            )
            problem["violacoes"] = violations
            return 400, problem
        with self._lock:
            number = len(self.charges) + 1
            charge: dict[str, Any] = {
                "calendario": {"criacao": CREATED_AT, "expiracao": body["calendario"]["expiracao"]},
                "txid": txid,
                "revisao": 0,
                "loc": {
                    "id": number,
                    "location": location_for(txid),
                    "tipoCob": "cob",
                    "criacao": CREATED_AT,
                },
                "location": location_for(txid),
                "status": "ATIVA",
                "valor": {"original": body["valor"]["original"]},
                "chave": body["chave"],
            }
            if "solicitacaoPagador" in body:
                charge["solicitacaoPagador"] = body["solicitacaoPagador"]
            if not self.omit_copia_e_cola:
                charge["pixCopiaECola"] = br_code_for(txid)
            self.charges[txid] = charge
            return 201, json.loads(json.dumps(charge))

    def _read_charge(self, txid: str) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            charge = self.charges.get(txid)
            if charge is None:
                return 404, _problem(
                    404,
                    "CobNaoEncontrado",
                    "Cobrança não encontrada.",
                    "Cobrança não encontrada para o txid informado.",
                )
            return 200, json.loads(json.dumps(charge))

    def _register_webhook(self, key: str, body: Any) -> tuple[int, dict[str, Any] | None]:
        if not isinstance(body, dict) or not isinstance(body.get("webhookUrl"), str):
            return 400, _problem(
                400, "WebhookOperacaoInvalida", "Webhook inválido.", "webhookUrl é obrigatório."
            )
        with self._lock:
            self.webhooks[key] = body["webhookUrl"]
        return 200, None

    def _send(self, id_envio: str, body: Any) -> tuple[int, dict[str, Any] | None]:
        if (
            not _ID_ENVIO.fullmatch(id_envio)
            or not isinstance(body, dict)
            or not _VALOR.fullmatch(str(body.get("valor")))
            or not isinstance(body.get("pagador"), dict)
            or not isinstance(body.get("favorecido"), dict)
        ):
            return 400, {"nome": "valor_invalido", "mensagem": "Requisição inválida"}
        with self._lock:
            if id_envio in self.envios:
                return 409, {
                    "nome": "id_envio_duplicado",
                    "mensagem": "O id de envio informado já foi utilizado em outro pagamento",
                }
            envio = {
                "idEnvio": id_envio,
                "e2eId": end_to_end_id_for(id_envio),
                "valor": body["valor"],
                "horario": {"solicitacao": SENT_AT},
                "status": self.envio_status,
            }
            self.envios[id_envio] = {
                **envio,
                "chave": body["pagador"].get("chave"),
                "favorecido": body["favorecido"],
            }
            return 201, envio

    def _read_envio(self, id_envio: str) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            envio = self.envios.get(id_envio)
            if envio is None:
                return 404, _problem(
                    404,
                    "PixEnviadoNaoEncontrado",
                    "Não Encontrado",
                    "Pix enviado não encontrado para o idEnvio informado.",
                )
            return 200, {
                "endToEndId": envio["e2eId"],
                "idEnvio": id_envio,
                "valor": envio["valor"],
                "chave": envio["chave"],
                "status": envio["status"],
                "horario": {"solicitacao": SENT_AT},
                "favorecido": envio["favorecido"],
            }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # A stuck client must not hold a server thread for ever.
            timeout = 5

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def _serve(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(
                            method=method,
                            path=self.path,
                            headers=headers,
                            body=_recorded_body(headers.get("content-type", ""), raw),
                        )
                    )
                status, reply = fake._answer(method, self.path, headers, raw)
                payload = b"" if reply is None else json.dumps(reply).encode()
                content_type = "application/problem+json" if status >= 400 else "application/json"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    # A client that timed out has hung up; that is what the test wanted.
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: the test output is for assertions, not an access log.
                pass

        return Handler


class _MutualTlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext,
        fake: FakePsp,
    ) -> None:
        super().__init__(address, handler)
        self._context = context
        self._fake = fake

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs here, in the request's own thread, so a client that never
        # finishes it cannot stall the accept loop.
        request.settimeout(5)
        try:
            connection = self._context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self._fake._refused()
            return
        try:
            # typeshed types the handler's server argument as Self, which a subclass is not.
            self.RequestHandlerClass(connection, client_address, self)  # type: ignore[arg-type]
        finally:
            # The client may already be gone; closing is all that is left to do.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


def _problem(status: int, kind: str, title: str, detail: str) -> dict[str, Any]:
    return {
        "type": f"https://pix.bcb.gov.br/api/v2/error/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }


def _charge_violations(txid: str, body: Any) -> list[dict[str, str]]:
    violations = []
    if not _TXID.fullmatch(txid):
        violations.append({"razao": "txid não respeita o schema.", "propriedade": "txid"})
    if not isinstance(body, dict):
        return [*violations, {"razao": "corpo não é um objeto.", "propriedade": "cob"}]
    calendario = body.get("calendario")
    expiracao = calendario.get("expiracao") if isinstance(calendario, dict) else None
    if not isinstance(expiracao, int) or expiracao <= 0:
        violations.append(
            {
                "razao": "O campo cob.calendario.expiracao é inválido.",
                "propriedade": "cob.calendario",
            }
        )
    valor = body.get("valor")
    original = valor.get("original") if isinstance(valor, dict) else None
    if not isinstance(original, str) or not _VALOR.fullmatch(original):
        violations.append(
            {
                "razao": "O campo cob.valor.original não respeita o schema.",
                "propriedade": "cob.valor.original",
            }
        )
    if not isinstance(body.get("chave"), str) or not body["chave"]:
        violations.append({"razao": "O campo cob.chave é obrigatório.", "propriedade": "cob.chave"})
    return violations


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _recorded_body(content_type: str, raw: bytes) -> Any:
    if content_type.startswith("application/json"):
        return _json_or_none(raw)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {name: values[0] for name, values in parse_qs(raw.decode()).items()}
    return raw.decode(errors="replace")


# --- Certificates ---------------------------------------------------------------------------


def make_certificates(directory: Path) -> PspCertificates:
    """Write a CA, a server certificate for 127.0.0.1 and client certificates into ``directory``.

    EC P-256 keys: generated in milliseconds, unlike RSA, and every TLS 1.2+ stack takes them.
    """
    ca_key, ca_cert = _certificate_authority("Fake PSP Test CA")
    other_ca_key, other_ca_cert = _certificate_authority("Somebody Else's CA")
    server_key, server_cert = _leaf("127.0.0.1", ca_key, ca_cert, server=True)
    client_key, client_cert = _leaf("atende-pix-client", ca_key, ca_cert, server=False)
    stranger_key, stranger_cert = _leaf("stranger", other_ca_key, other_ca_cert, server=False)
    files = {
        "ca_file": ("ca.pem", _pem(ca_cert)),
        "server_cert_file": ("server.pem", _pem(server_cert)),
        "server_key_file": ("server-key.pem", _key_pem(server_key)),
        "client_cert_file": ("client.pem", _pem(client_cert)),
        "client_key_file": ("client-key.pem", _key_pem(client_key)),
        "other_ca_file": ("other-ca.pem", _pem(other_ca_cert)),
        "stranger_cert_file": ("stranger.pem", _pem(stranger_cert)),
        "stranger_key_file": ("stranger-key.pem", _key_pem(stranger_key)),
    }
    paths = {}
    for field_name, (file_name, content) in files.items():
        path = directory / file_name
        path.write_bytes(content)
        paths[field_name] = path
    return PspCertificates(**paths)


def _certificate_authority(
    common_name: str,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _leaf(
    common_name: str,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _builder(name, ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(common_name))]),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(name="psp_certificates", scope="session")
def psp_certificates_fixture(tmp_path_factory: pytest.TempPathFactory) -> PspCertificates:
    return make_certificates(tmp_path_factory.mktemp("psp-certificates"))


@pytest.fixture(name="fake_psp")
def fake_psp_fixture(settings: Any, psp_certificates: PspCertificates) -> Iterator[FakePsp]:
    fake = FakePsp(psp_certificates)
    fake.start()
    settings.PIX_API_URL = fake.url
    settings.PIX_CLIENT_ID = CLIENT_ID
    settings.PIX_CLIENT_SECRET = CLIENT_SECRET
    settings.PIX_CERT_FILE = str(psp_certificates.client_cert_file)
    settings.PIX_KEY_FILE = str(psp_certificates.client_key_file)
    settings.PIX_CA_FILE = str(psp_certificates.ca_file)
    settings.PIX_RECEIVER_KEY = RECEIVER_KEY
    settings.PIX_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PIX_TIMEOUT_SECONDS = 5.0
    yield fake
    fake.stop()
