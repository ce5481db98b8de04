"""Who may post to `/api/messages`: Bot Framework JWT validation, or dev mode on loopback.

With `MicrosoftAppId` set, `ConfigurationBotFrameworkAuthentication` validates the inbound
JWT (issuer, audience = the app id, signature against the Bot Framework's published keys,
the `serviceurl` claim) and anything else is refused with 401
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication).
With `TEAMS_DEV_MODE=1` and no app id, authentication is off for the Bot Framework
Emulator and tests, and only loopback `serviceUrl`s are accepted, so a dev-mode bot can
never be made to send (with whatever it knows) to a host elsewhere.

Two SDK traps are handled here:
- botbuilder 4.17 takes the anonymous path only when the Authorization header is `None`;
  the aiohttp integration passes "" for a missing header, which then fails with a 500. A
  missing or empty header is passed as `None`.
- the SDK fetches the signing keys with blocking `requests` calls and no timeout, inside
  the async validation. Validation therefore runs on a worker thread with a deadline, so
  a slow key endpoint never stalls the event loop; a token that cannot be checked is
  refused.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (  # type: ignore[import-untyped]
    AuthenticateRequestResult,
)

from adapters.teams.activities import is_loopback
from bot.settings import Settings

log = logging.getLogger(__name__)

VALIDATE_TIMEOUT_S = 10.0


class Refused(Exception):
    """The request may not be processed; `status` is the HTTP answer (401 or 403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _SdkConfiguration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None


def sdk_configuration(settings: Settings) -> _SdkConfiguration:
    password = settings.microsoft_app_password
    return _SdkConfiguration(
        APP_ID=settings.microsoft_app_id or None,
        APP_PASSWORD=password.get_secret_value() if password is not None else None,
        APP_TYPE=settings.microsoft_app_type or "MultiTenant",
        APP_TENANTID=settings.microsoft_app_tenant_id,
    )


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.app_id = settings.microsoft_app_id or None
        self.dev_mode = self.app_id is None
        self.sdk = ConfigurationBotFrameworkAuthentication(sdk_configuration(settings))

    async def authenticate(
        self, activity: Activity, authorization: str | None
    ) -> AuthenticateRequestResult:
        """The SDK's authentication result for this request, or `Refused`."""
        header = authorization.strip() if authorization else None
        if self.dev_mode:
            if not is_loopback(str(activity.service_url or "")):
                raise Refused(403, "dev mode accepts only loopback serviceUrls")
            header = None  # the emulator may send a token; dev mode does not check it
        elif not header:
            raise Refused(401, "no Authorization header")
        try:
            if header is None:
                return await self._validate(activity, None)
            async with asyncio.timeout(VALIDATE_TIMEOUT_S):
                return await asyncio.to_thread(_validate_on_thread, self.sdk, activity, header)
        except PermissionError as exc:
            raise Refused(401, "token refused") from exc
        except TimeoutError as exc:
            log.warning("Bot Framework token could not be checked in time; refusing")
            raise Refused(401, "token not checked in time") from exc
        except Exception as exc:  # the SDK raises bare Exceptions and key-lookup errors
            log.info("Bot Framework token refused: %s", type(exc).__name__)
            raise Refused(401, "token refused") from exc

    async def _validate(self, activity: Activity, header: None) -> AuthenticateRequestResult:
        result: AuthenticateRequestResult = await self.sdk.authenticate_request(
            activity,
            header,  # None is the SDK's anonymous path
        )
        return result


def _validate_on_thread(sdk: Any, activity: Activity, header: str) -> AuthenticateRequestResult:
    result: AuthenticateRequestResult = asyncio.run(sdk.authenticate_request(activity, header))
    return result
