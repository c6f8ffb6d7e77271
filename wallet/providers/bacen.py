"""PIX through a PSP's Banco Central "API Pix": OAuth2 client credentials over mutual TLS.

Which documented call each method makes
---------------------------------------
Charges, the webhook and the token follow the Banco Central's own specification,
bacen/pix-api ``openapi.yaml``, API Pix 2.8.1. Its servers are ``https://pix.example.com/api/``
and its paths carry no version; the ``v2`` in ours is the API's major version, which the
spec says belongs in the path. ``PIX_API_URL`` is everything before ``/v2``.

* Token: ``POST {PIX_API_URL}/oauth/token``. The spec's ``securitySchemes.OAuth2`` is the
  ``clientCredentials`` flow with ``tokenUrl: https://pix.example.com/oauth/token`` and
  scopes such as ``cob.write``, ``cob.read`` and ``webhook.write``, granted per application
  by the PSP. We authenticate with HTTP Basic ``client_id:client_secret`` and send
  ``grant_type=client_credentials``, form-encoded as RFC 6749 section 4.4.2 says. The answer
  is ``{"access_token", "token_type": "Bearer", "expires_in", "scope"}``.
* ``create_charge``: ``PUT /v2/cob/{txid}`` (scope ``cob.write``) with a ``CobSolicitada``:
  ``{"calendario": {"expiracao": 3600}, "valor": {"original": "19.90"}, "chave": "...",
  "solicitacaoPagador": "..."}``. 201 with a ``CobGerada``: ``txid``, ``calendario.criacao``,
  ``calendario.expiracao``, ``status``, ``valor.original``, ``location`` and
  ``loc.location``, ``pixCopiaECola``.
* ``get_charge``: ``GET /v2/cob/{txid}`` (scope ``cob.read``). 200 with a ``CobCompleta``:
  the same fields and a ``pix`` array of ``Pix`` items (see ``pix_payload``).
* ``register_webhook``: ``PUT /v2/webhook/{chave}`` (scope ``webhook.write``) with
  ``{"webhookUrl": "..."}``. 200. The PSP then calls ``POST {webhookUrl}/pix``.
* Errors are RFC 7807 problems, ``Problema``: ``type``, ``title``, ``status``, ``detail``,
  ``violacoes``.

Payouts are outside the standard; Efí (formerly Gerencianet) warns that its endpoint "poderá
sofrer alterações quando entrar no escopo de padronização do BACEN". ``send_pix`` follows
Efí's "Requisitar envio de Pix": ``PUT /v3/gn/pix/{idEnvio}`` (scope ``pix.send``; ``idEnvio``
is ``^[a-zA-Z0-9]{1,35}$``) with ``{"valor": "12.34", "pagador": {"chave": <our key>,
"infoPagador": "..."}, "favorecido": {"chave": <their key>}}``. It answers 201 with
``{"idEnvio", "e2eId", "valor", "horario": {"solicitacao"}, "status": "EM_PROCESSAMENTO"}``;
the documented statuses are ``EM_PROCESSAMENTO``, ``REALIZADO`` and ``NAO_REALIZADO``, and the
final one reaches the webhook of the paying key. A second PUT with a used ``idEnvio`` answers
409 ``{"nome": "id_envio_duplicado"}``, so a retry then reads the first envio with
``GET /v2/gn/pix/enviados/id-envio/{idEnvio}`` (scope ``gn.pix.send.read``), which answers
``{"endToEndId", "idEnvio", "valor", "status", ...}``.

Where the documentation was uncertain
-------------------------------------
* The envio path: an Efí-branded sample application ("Efí API Pix", Delphi) and integrations
  written against Efí's current pages use ``/v3/gn/pix/:idEnvio``; the snapshot of Efí's page
  that could be read in full, and the route table of Efí's Python SDK, say
  ``/v2/gn/pix/:idEnvio`` with the same body and answer. The live page's text that could be
  reached did not show the path. We use v3; ``SEND_PIX_PATH`` is the one place to change.
* The token body: Efí's examples send JSON ``{"grant_type": "client_credentials"}``; RFC 6749
  and other PSPs (Sicredi, Itaú) use the form. We send the form, unverified against Efí.
* The token URL: the spec puts it at the host root while the API lives under ``/api/``; Efí
  serves both from one base URL. ``token_url`` overrides ours.
* Efí's envio errors are ``{"nome", "mensagem"}``, not RFC 7807; both shapes are read.
* Efí's envio example answers ``"valor": "12.31"`` to a request for ``"12.34"``; we trust the
  amount we sent, and check the PSP's only when recovering an envio after a 409.
* ``pixCopiaECola`` and ``location`` are both optional in ``CobGerada``. Without the former we
  build the dynamic BR Code from the latter, which is what a payer's bank reads anyway.
* ``CobrancaStatus`` describes ``REMOVIDO_PELO_...`` but enumerates ``REMOVIDA_PELO_...``; we
  follow the enumeration, as ``ChargeStatus`` does.

Settings are read at each call, not at construction: ``load_provider`` caches one instance
per process, and it must follow a rotated secret or certificate. The access token is cached
in that instance until shortly before it expires, and renewed once when a call answers 401.
Client secrets, tokens, certificates and the webhook URL (which holds ``PIX_WEBHOOK_SECRET``)
never appear in logs or exception messages, not even when a PSP quotes them back.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import logging
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wallet.brcode import build_dynamic
from wallet.pix_keys import InvalidPixKey, normalize_pix_key
from wallet.providers.pix import (
    ChargeStatus,
    PayoutResult,
    PayoutStatus,
    PixError,
    PixPermanentError,
    PixProvider,
    PixTemporaryError,
    ProviderCharge,
)
from wallet.providers.pix_payload import (
    format_valor,
    is_charge_txid,
    parse_horario,
    parse_pix,
    parse_valor,
)

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
CHARGE_PATH = "/v2/cob/{txid}"
WEBHOOK_PATH = "/v2/webhook/{key}"
SEND_PIX_PATH = "/v3/gn/pix/{payout_id}"
SENT_PIX_PATH = "/v2/gn/pix/enviados/id-envio/{payout_id}"

DEFAULT_TIMEOUT_SECONDS = 10.0
# Two quick retries smooth over a blip; anything longer is the Celery task's job. Every call
# here may be repeated safely: PUTs carry our own id (txid, chave, idEnvio) and GETs read.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5)
# A token is renewed this long before the PSP says it ends, so that no request leaves with a
# token that expires on the way (a slow call, the PSP's clock running ahead of ours).
TOKEN_RENEWAL_MARGIN_SECONDS = 60.0
# RFC 6749 only recommends expires_in; without it, a short life costs one token request.
DEFAULT_TOKEN_LIFETIME_SECONDS = 300
MAX_DESCRIPTION_LENGTH = 140  # solicitacaoPagador and infoPagador
MAX_EXPIRES_IN = 2**31 - 1  # calendario.expiracao is an int32
# Text quoted from a PSP's error is cut to this: enough to diagnose, not a log flood.
MAX_QUOTED_ERROR_LENGTH = 200

_PAYOUT_ID = re.compile(r"[A-Za-z0-9]{1,35}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")
_PAYOUT_STATUSES = {
    "EM_PROCESSAMENTO": PayoutStatus.SENT,
    "REALIZADO": PayoutStatus.SENT,
    "NAO_REALIZADO": PayoutStatus.FAILED,
}
_PERMANENT_CODES = {
    400: "invalid_request",
    401: "auth",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "not_found",
}


@dataclass(frozen=True)
class _Config:
    api_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    receiver_key: str
    timeout: float
    ssl_context: ssl.SSLContext = field(repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret, self.client_id)


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    renew_at: float  # on the adapter's monotonic clock
    # Which credentials issued it: a token must not outlive a change of PSP or secret.
    issuer: tuple[str, str, str] = field(repr=False)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect with our Authorization header to wherever it points.
    # The API Pix does not redirect, so a redirect is an error, not a hop.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class BacenPix(PixProvider):
    """The real PIX adapter. Constructor arguments override settings (tests use them)."""

    name = "bacen"

    def __init__(
        self,
        *,
        token_url: str | None = None,
        timeout: float | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._timeout = timeout
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = threading.Lock()

    # --- The interface ------------------------------------------------------------------

    def create_charge(
        self, *, txid: str, amount_centavos: int, expires_in: int, description: str
    ) -> ProviderCharge:
        """``PUT /v2/cob/{txid}``; the charge as the PSP answers it, BR Code included.

        Arguments are checked before any request: PixPermanentError("invalid_request").
        """
        _check_txid(txid)
        valor = _valor(amount_centavos)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int):
            raise PixPermanentError(
                "expires_in is a whole number of seconds.", code="invalid_request"
            )
        if not 0 < expires_in <= MAX_EXPIRES_IN:
            raise PixPermanentError(
                f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds.",
                code="invalid_request",
            )
        _check_description(description)
        config = self._config()
        body: dict[str, Any] = {
            "calendario": {"expiracao": expires_in},
            "valor": {"original": valor},
            "chave": config.receiver_key,
        }
        if description:
            body["solicitacaoPagador"] = description
        payload = self._call(
            config,
            "PUT",
            CHARGE_PATH.format(txid=txid),
            body=body,
            operation="create the charge",
            reference=txid,
        )
        charge = _charge_from(_json_object(payload, "create the charge"), txid=txid)
        logger.info("The PSP created charge %s (%s)", txid, charge.status)
        return charge

    def get_charge(self, txid: str) -> ProviderCharge:
        """``GET /v2/cob/{txid}``; its ``pix`` array becomes ``payments``."""
        _check_txid(txid)
        config = self._config()
        payload = self._call(
            config,
            "GET",
            CHARGE_PATH.format(txid=txid),
            body=None,
            operation="read the charge",
            reference=txid,
        )
        return _charge_from(_json_object(payload, "read the charge"), txid=txid)

    def register_webhook(self, url: str) -> None:
        """``PUT /v2/webhook/{chave}`` for ``PIX_RECEIVER_KEY``, which is URL-encoded in the path.

        ``url`` holds the webhook secret: it is sent, never logged or quoted in an error.
        """
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            # PSPs call the webhook over mutual TLS; they refuse anything but https.
            raise PixPermanentError(
                "The webhook URL must be an https:// URL.", code="invalid_request"
            )
        config = self._config()
        self._call(
            config,
            "PUT",
            WEBHOOK_PATH.format(key=quote(config.receiver_key, safe="")),
            body={"webhookUrl": url},
            operation="register the webhook",
            reference="receiver key",
            secrets=(url, getattr(settings, "PIX_WEBHOOK_SECRET", "")),
        )
        logger.info("The PSP registered the PIX webhook for the receiver key")

    def send_pix(
        self, *, payout_id: str, amount_centavos: int, key: str, key_type: str, description: str
    ) -> PayoutResult:
        """``PUT /v3/gn/pix/{idEnvio}`` with ``payout_id`` as Efí's ``idEnvio``.

        The key is normalized the way the DICT stores it (``wallet.pix_keys``) before it goes
        out; an invalid key is PixPermanentError("invalid_key") without any request. When the
        PSP answers 409 because the idEnvio was already used (a retried task, a lost answer),
        the first envio is read back instead: the money may already have left, and failing
        the payout would pay it twice. An envio under our id for another amount is
        PixPermanentError("conflict").
        """
        if not isinstance(payout_id, str) or not _PAYOUT_ID.fullmatch(payout_id):
            raise PixPermanentError(
                "The payout id must be 1 to 35 ASCII letters and digits (Efí's idEnvio).",
                code="invalid_request",
            )
        valor = _valor(amount_centavos)
        _check_description(description)
        try:
            normalized_key = normalize_pix_key(key_type, key)
        except InvalidPixKey:
            # The key itself stays out of the message: it may be a CPF or a phone number.
            raise PixPermanentError(
                f"The destination is not a valid PIX key of type {key_type!r}.",
                code="invalid_key",
            ) from None
        config = self._config()
        payer: dict[str, str] = {"chave": config.receiver_key}
        if description:
            payer["infoPagador"] = description
        body = {"valor": valor, "pagador": payer, "favorecido": {"chave": normalized_key}}
        try:
            payload = self._call(
                config,
                "PUT",
                SEND_PIX_PATH.format(payout_id=payout_id),
                body=body,
                operation="send the PIX",
                reference=payout_id,
                # The payee's key may be a CPF or a phone number: personal data, not for logs.
                secrets=(key, normalized_key),
                handled_statuses=(409,),
            )
        except PixPermanentError as error:
            if error.http_status != 409:
                raise
            logger.info("The PSP already has envio %s; reading it back", payout_id)
            payload = self._call(
                config,
                "GET",
                SENT_PIX_PATH.format(payout_id=payout_id),
                body=None,
                operation="read the sent PIX",
                reference=payout_id,
            )
            return _payout_from(
                _json_object(payload, "read the sent PIX"),
                payout_id=payout_id,
                expected_valor=valor,
            )
        return _payout_from(_json_object(payload, "send the PIX"), payout_id=payout_id)

    # --- Configuration ------------------------------------------------------------------

    def _config(self) -> _Config:
        api_url = getattr(settings, "PIX_API_URL", "").rstrip("/")
        token_url = self._token_url or (api_url + TOKEN_PATH)
        values = {
            "PIX_API_URL": api_url,
            "PIX_CLIENT_ID": getattr(settings, "PIX_CLIENT_ID", ""),
            "PIX_CLIENT_SECRET": getattr(settings, "PIX_CLIENT_SECRET", ""),
            "PIX_CERT_FILE": getattr(settings, "PIX_CERT_FILE", ""),
            "PIX_KEY_FILE": getattr(settings, "PIX_KEY_FILE", ""),
            "PIX_RECEIVER_KEY": getattr(settings, "PIX_RECEIVER_KEY", ""),
        }
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ImproperlyConfigured(f"The PIX adapter needs {', '.join(missing)}.")
        for name, url in (("PIX_API_URL", api_url), ("the token URL", token_url)):
            # Over plain http there would be no client certificate and the secret would
            # travel in clear: refuse rather than degrade.
            if urlsplit(url).scheme != "https":
                raise ImproperlyConfigured(f"{name} must be an https:// URL.")
        timeout = self._timeout or getattr(settings, "PIX_TIMEOUT_SECONDS", 0)
        return _Config(
            api_url=api_url,
            token_url=token_url,
            client_id=values["PIX_CLIENT_ID"],
            client_secret=values["PIX_CLIENT_SECRET"],
            receiver_key=values["PIX_RECEIVER_KEY"],
            timeout=float(timeout or DEFAULT_TIMEOUT_SECONDS),
            ssl_context=_mutual_tls_context(
                cert_file=values["PIX_CERT_FILE"],
                key_file=values["PIX_KEY_FILE"],
                ca_file=getattr(settings, "PIX_CA_FILE", ""),
            ),
        )

    # --- Requests -----------------------------------------------------------------------

    def _call(
        self,
        config: _Config,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None,
        operation: str,
        reference: str,
        secrets: Iterable[str] = (),
        handled_statuses: tuple[int, ...] = (),
    ) -> bytes:
        """One API call with a bearer token; the 2xx body, or a PixError.

        Temporary failures (5xx, 429, timeouts, no connection, a token the PSP could not
        issue) are retried ``len(retry_delays)`` times. A 401 renews the token and repeats
        the call once, without spending an attempt: the PSP may end a token before its
        ``expires_in``. Everything else raises at once; it is logged as a warning unless its
        status is in ``handled_statuses``, which the caller recovers from.
        """
        url = config.api_url + path
        data = None if body is None else json.dumps(body).encode()
        hidden = (*config.secrets, *secrets)
        attempts = len(self._retry_delays) + 1
        attempt = 1
        renewed = False
        while True:
            try:
                token = self._access_token(config)
                headers = {"Authorization": f"Bearer {token}"}
                if data is not None:
                    headers["Content-Type"] = "application/json"
                status, payload = self._exchange(
                    config, method, url, data=data, headers=headers, operation=operation
                )
                if status == 401 and not renewed:
                    logger.info(
                        "The PSP refused its token to %s %s; renewing it", operation, reference
                    )
                    self._forget_token(token)
                    renewed = True
                    continue
                if 200 <= status < 300:
                    return payload
                raise _error_for(status, payload, operation=operation, secrets=(*hidden, token))
            except PixTemporaryError as error:
                if attempt == attempts:
                    logger.warning(
                        "PSP: could not %s %s after %d attempts: %s",
                        operation,
                        reference,
                        attempts,
                        error,
                        extra={"code": error.code},
                    )
                    raise
                delay = self._retry_delays[attempt - 1]
                logger.info(
                    "PSP: could not %s %s (attempt %d of %d), retrying in %g s: %s",
                    operation,
                    reference,
                    attempt,
                    attempts,
                    delay,
                    error,
                )
                self._sleep(delay)
                attempt += 1
            except PixPermanentError as error:
                if error.http_status not in handled_statuses:
                    logger.warning(
                        "PSP: refused to %s %s: %s",
                        operation,
                        reference,
                        error,
                        extra={"code": error.code},
                    )
                raise

    def _access_token(self, config: _Config) -> str:
        issuer = (
            config.token_url,
            config.client_id,
            hashlib.sha256(config.client_secret.encode()).hexdigest(),
        )
        # One thread asks for a token while the others wait for it: without the lock, every
        # worker whose token ended at the same moment would request its own.
        with self._token_lock:
            token = self._token
            if token is not None and token.issuer == issuer and self._clock() < token.renew_at:
                return token.value
            self._token = self._request_token(config, issuer)
            return self._token.value

    def _forget_token(self, value: str) -> None:
        with self._token_lock:
            # Another thread may already have replaced it; keep that newer token.
            if self._token is not None and self._token.value == value:
                self._token = None

    def _request_token(self, config: _Config, issuer: tuple[str, str, str]) -> _Token:
        operation = "issue an access token"
        basic = base64.b64encode(f"{config.client_id}:{config.client_secret}".encode()).decode()
        status, payload = self._exchange(
            config,
            "POST",
            config.token_url,
            data=b"grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            operation=operation,
        )
        if not 200 <= status < 300:
            error = _error_for(
                status, payload, operation=operation, secrets=(*config.secrets, basic)
            )
            if isinstance(error, PixPermanentError):
                # 400 invalid_client and 401 alike mean our credentials: retrying cannot help.
                error.code = "auth"
            raise error
        answer = _json_object(payload, operation)
        value = answer.get("access_token")
        token_type = answer.get("token_type", "Bearer")
        lifetime = answer.get("expires_in", DEFAULT_TOKEN_LIFETIME_SECONDS)
        if isinstance(lifetime, str) and lifetime.isdigit():
            lifetime = int(lifetime)  # some PSPs send it as a string
        if (
            not isinstance(value, str)
            or not value
            or not isinstance(token_type, str)
            or token_type.lower() != "bearer"
            or isinstance(lifetime, bool)
            or not isinstance(lifetime, int)
            or lifetime <= 0
        ):
            raise PixTemporaryError(
                "The PSP answered without a usable bearer token.", code="bad_response"
            )
        # Renew a minute early, or halfway through a token that lives less than two minutes.
        renew_after = max(lifetime - TOKEN_RENEWAL_MARGIN_SECONDS, lifetime / 2)
        logger.info("The PSP issued an access token for %d s", lifetime)
        return _Token(value=value, renew_at=self._clock() + renew_after, issuer=issuer)

    def _exchange(
        self,
        config: _Config,
        method: str,
        url: str,
        *,
        data: bytes | None,
        headers: dict[str, str],
        operation: str,
    ) -> tuple[int, bytes]:
        """One HTTPS round trip over mutual TLS: ``(status, body)`` for any HTTP answer.

        Raises PixTemporaryError when there is no answer, and PixPermanentError("tls") when
        the server's certificate is not one we trust: that is not a blip to retry.
        """
        # The scheme was checked in _config: only https, never file: or ftp:.
        request = urllib.request.Request(  # noqa: S310
            url, data=data, method=method, headers={"Accept": "application/json", **headers}
        )
        opener = urllib.request.build_opener(
            _RefuseRedirects, urllib.request.HTTPSHandler(context=config.ssl_context)
        )
        try:
            try:
                response = opener.open(request, timeout=config.timeout)
            except urllib.error.HTTPError as error:
                response = error
            with response:
                return response.getcode() or 0, response.read()
        except urllib.error.URLError as exc:
            raise _no_answer(exc.reason, operation=operation, timeout=config.timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _no_answer(exc, operation=operation, timeout=config.timeout) from None


# --- Module helpers -------------------------------------------------------------------------


def _mutual_tls_context(*, cert_file: str, key_file: str, ca_file: str) -> ssl.SSLContext:
    # Verifying the PSP stays on (hostname and chain); PIX_CA_FILE narrows trust to the CA
    # the PSP names instead of every CA the system trusts.
    context = ssl.create_default_context(cafile=ca_file or None)
    # The Banco Central's security manual asks for TLS 1.2 or later.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ImproperlyConfigured(
            f"PIX_CERT_FILE and PIX_KEY_FILE cannot be loaded ({_describe(exc)})."
        ) from None
    return context


def _no_answer(reason: object, *, operation: str, timeout: float) -> PixError:
    if isinstance(reason, TimeoutError):
        return PixTemporaryError(
            f"The PSP did not answer within {timeout:g} s when asked to {operation}.",
            code="timeout",
        )
    if isinstance(reason, ssl.SSLCertVerificationError):
        return PixPermanentError(
            f"The PSP's TLS certificate is not trusted ({reason.verify_message}); "
            "check PIX_API_URL and PIX_CA_FILE.",
            code="tls",
        )
    return PixTemporaryError(
        f"Could not connect to the PSP to {operation} ({_describe(reason)}).",
        code="connection_error",
    )


def _error_for(status: int, payload: bytes, *, operation: str, secrets: Iterable[str]) -> PixError:
    summary = _redact(_problem_summary(payload), secrets)
    suffix = f": {summary}" if summary else ""
    if status == 429:
        return PixTemporaryError(
            f"The PSP is rate limiting us (HTTP 429) when asked to {operation}{suffix}",
            code="rate_limited",
            http_status=status,
        )
    if status >= 500:
        return PixTemporaryError(
            f"The PSP failed to {operation} (HTTP {status}){suffix}",
            code="server_error",
            http_status=status,
        )
    return PixPermanentError(
        f"The PSP refused to {operation} (HTTP {status}){suffix}",
        code=_PERMANENT_CODES.get(status, "rejected"),
        http_status=status,
    )


def _problem_summary(payload: bytes) -> str:
    """The human part of an error body: RFC 7807 (API Pix), Efí's own, or OAuth's."""
    problem = _json_or_empty(payload)
    parts = [
        _clean(problem[name])
        for name in ("title", "detail", "nome", "mensagem", "error", "error_description")
        if isinstance(problem.get(name), str) and problem[name].strip()
    ]
    violations = problem.get("violacoes")
    if isinstance(violations, list):
        # "razao" explains and "propriedade" names the field; "valor" would quote our request.
        for violation in violations[:3]:
            if isinstance(violation, dict):
                where = violation.get("propriedade")
                why = violation.get("razao")
                text = ": ".join(_clean(part) for part in (where, why) if isinstance(part, str))
                if text:
                    parts.append(text)
    return "; ".join(parts)


def _redact(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so a secret that contains another is hidden whole.
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _clean(text: str) -> str:
    text = " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())
    if len(text) > MAX_QUOTED_ERROR_LENGTH:
        text = text[: MAX_QUOTED_ERROR_LENGTH - 1] + "…"
    return text


def _json_or_empty(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_object(payload: bytes, operation: str) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        # The PSP acted (2xx) but we cannot read what it did. Temporary: every call here can
        # be repeated safely, and the repeat may be readable.
        raise PixTemporaryError(
            f"The PSP answered {operation} with something other than a JSON object.",
            code="bad_response",
        )
    return value


def _charge_from(cob: dict[str, Any], *, txid: str) -> ProviderCharge:
    try:
        if cob.get("txid") != txid:
            raise ValueError(f"txid is {str(cob.get('txid'))[:40]!r}, not the one asked for")
        status_text = cob.get("status")
        if not isinstance(status_text, str):
            raise ValueError("status is missing")
        status = ChargeStatus(status_text)
        valor = cob.get("valor")
        amount = parse_valor(
            valor.get("original") if isinstance(valor, dict) else None, field="valor.original"
        )
        calendario = cob.get("calendario")
        if not isinstance(calendario, dict):
            raise ValueError("calendario is missing")
        created_at = parse_horario(calendario.get("criacao"), field="calendario.criacao")
        expires_in = calendario.get("expiracao")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise ValueError("calendario.expiracao is not a positive number of seconds")
        location = _location(cob)
        br_code = cob.get("pixCopiaECola") or ""
        if not isinstance(br_code, str):
            raise ValueError("pixCopiaECola is not a string")
        if not br_code and location:
            br_code = build_dynamic(
                location=location,
                merchant_name=settings.PIX_MERCHANT_NAME,
                merchant_city=settings.PIX_MERCHANT_CITY,
            )
        if status == ChargeStatus.ACTIVE and not br_code:
            raise ValueError("an active charge has neither pixCopiaECola nor location")
        entries = cob.get("pix", [])
        if not isinstance(entries, list):
            raise ValueError("pix is not an array")
        payments = []
        for index, entry in enumerate(entries):
            payment = parse_pix(entry, field=f"pix[{index}]", charge_txid=True)
            if payment.txid and payment.txid != txid:
                raise ValueError(f"pix[{index}].txid belongs to another charge")
            payments.append(dataclasses.replace(payment, txid=txid))
    except ValueError as exc:
        raise PixTemporaryError(
            f"The PSP answered with a charge we cannot read: {exc}.", code="bad_response"
        ) from None
    return ProviderCharge(
        txid=txid,
        status=status,
        amount_centavos=amount,
        br_code=br_code,
        location=location,
        created_at=created_at,
        expires_in=expires_in,
        payments=tuple(payments),
    )


def _location(cob: dict[str, Any]) -> str:
    location = cob.get("location")
    if not location:
        loc = cob.get("loc")
        location = loc.get("location") if isinstance(loc, dict) else ""
    if location is None:
        return ""
    if not isinstance(location, str):
        raise ValueError("location is not a string")
    return location


def _payout_from(
    envio: dict[str, Any], *, payout_id: str, expected_valor: str | None = None
) -> PayoutResult:
    if envio.get("idEnvio", payout_id) != payout_id:
        raise PixTemporaryError("The PSP answered about another envio.", code="bad_response")
    if expected_valor is not None and envio.get("valor") != expected_valor:
        raise PixPermanentError(
            f"The PSP already holds envio {payout_id} for another amount.", code="conflict"
        )
    # The PUT answers "e2eId"; the GET of a sent PIX answers "endToEndId".
    end_to_end_id = envio.get("e2eId") or envio.get("endToEndId") or ""
    psp_status = envio.get("status")
    status = _PAYOUT_STATUSES.get(psp_status) if isinstance(psp_status, str) else None
    if status is None or not isinstance(end_to_end_id, str):
        raise PixTemporaryError(
            f"The PSP answered envio {payout_id} with an unknown status.", code="bad_response"
        )
    reason = ""
    if status == PayoutStatus.FAILED:
        reason = f"The PSP reported {psp_status}."
        motive = envio.get("motivo")
        if isinstance(motive, str) and motive.strip():
            reason = f"The PSP reported {psp_status}: {_clean(motive)}"
    logger.info("The PSP took envio %s as %s", payout_id, psp_status)
    return PayoutResult(
        status=status,
        provider_reference=payout_id,
        end_to_end_id=end_to_end_id,
        failure_reason=reason,
    )


def _check_txid(txid: str) -> None:
    if not isinstance(txid, str) or not is_charge_txid(txid):
        raise PixPermanentError(
            "A charge's txid is 26 to 35 ASCII letters and digits.", code="invalid_request"
        )


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise PixPermanentError(
            f"The description has more than {MAX_DESCRIPTION_LENGTH} characters.",
            code="invalid_request",
        )


def _valor(amount_centavos: int) -> str:
    try:
        return format_valor(amount_centavos)
    except ValueError as exc:
        raise PixPermanentError(str(exc), code="invalid_request") from None


def _describe(reason: object) -> str:
    return type(reason).__name__ if isinstance(reason, BaseException) else str(reason)
