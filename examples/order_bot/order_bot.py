"""Order bot: a small WhatsApp shop assistant behind Evolution API v2, and an example of a
webhook consumer tested with hookcatcher's pytest plugin (see test_order_bot.py).

Every webhook is answered at once and the work happens after the answer: Evolution waits
for the answer (30 s, then it retries), and its retries carry the same message again, so
messages are handled once per message id.

- `messages.upsert`, text from a customer: a reply through Evolution's
  `POST /message/sendText/{instance}` (`menu`, `order <item>`, anything else: how to order).
  The shop's own messages (`fromMe`) and group messages get none; a chat known by its LID
  (Baileys 7) is answered on the phone number Evolution gives next to it.
- `messages.update`: each sent message's delivery statuses, in arrival order.
- Any other event: answered and ignored.

The webhook can be configured with one URL (`/webhook`) or per event (`/webhook/<event>`).

    EVOLUTION_URL=http://127.0.0.1:8080 EVOLUTION_API_KEY=... uvicorn order_bot:app --port 3000
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["HELP", "MENU", "app", "create_app", "reply_to"]

MENU = "Today: margherita, quattro formaggi, calzone. Send *order <item>* to order."
HELP = "Hi {name}! Send *menu* to see what we have, or *order <item>* to order."
CONFIRMED = "Order {number}: {item}. We will tell you when it leaves the oven."
REMEMBERED = 10_000  # message ids kept to recognise the gateway's retries

log = logging.getLogger("order_bot")


def create_app(evolution_url: str, api_key: str) -> Starlette:
    """The bot, sending its replies to the Evolution API at `evolution_url`."""

    async def webhook(request: Request) -> JSONResponse:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"ok": False, "error": "the body is not JSON"}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), (dict, list)):
            return JSONResponse({"ok": False, "error": "not an Evolution webhook"}, status_code=400)
        event, data = payload.get("event"), payload["data"]
        if event == "messages.update" and isinstance(data, dict):
            request.app.state.receipts.setdefault(data.get("keyId"), []).append(data.get("status"))
            return JSONResponse({"ok": True})
        if event != "messages.upsert" or not isinstance(data, dict):
            return JSONResponse({"ok": True, "ignored": event})
        message_id = (data.get("key") or {}).get("id")
        seen: OrderedDict[str, None] = request.app.state.seen
        if message_id in seen:
            return JSONResponse({"ok": True, "ignored": "already handled"})
        seen[message_id] = None
        if len(seen) > REMEMBERED:
            seen.popitem(last=False)
        reply = reply_to(data, request.app.state.orders)
        if reply is None:
            return JSONResponse({"ok": True, "ignored": "nothing to answer"})
        number, text = reply
        task = BackgroundTask(send_text, request.app, payload.get("instance"), number, text)
        return JSONResponse({"ok": True}, background=task)

    async def send_text(app: Starlette, instance: str, number: str, text: str) -> None:
        url = f"{evolution_url.rstrip('/')}/message/sendText/{instance}"
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(
                    url, headers={"apikey": api_key}, json={"number": number, "text": text}
                )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("reply to %s not sent: %s", number, exc)
            app.state.unsent.append((number, text))

    methods = ["POST"]
    bot = Starlette(
        routes=[
            Route("/webhook", webhook, methods=methods),
            Route("/webhook/{event}", webhook, methods=methods),
        ]
    )
    bot.state.orders = []  # (number, item), the order number is the position + 1
    bot.state.receipts = {}  # message id -> statuses (DELIVERY_ACK, READ...), oldest first
    bot.state.seen = OrderedDict()
    bot.state.unsent = []  # replies Evolution did not accept
    return bot


def reply_to(data: dict[str, Any], orders: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The number to answer and the text, or None when the message needs no answer."""
    key = data.get("key") or {}
    number = _phone_number(key)
    message = data.get("message") or {}
    # Evolution 2.2+ puts every text in `conversation`; earlier versions kept replies and
    # links in `extendedTextMessage`.
    text = message.get("conversation") or (message.get("extendedTextMessage") or {}).get("text")
    if key.get("fromMe") or number is None or not isinstance(text, str):
        return None
    words = text.strip().split(maxsplit=1)
    command = words[0].lower() if words else ""
    if command == "menu":
        return number, MENU
    if command == "order" and len(words) == 2:
        orders.append((number, words[1]))
        return number, CONFIRMED.format(number=len(orders), item=words[1])
    return number, HELP.format(name=data.get("pushName") or "there")


def _phone_number(key: dict[str, Any]) -> str | None:
    """The customer's number for sendText: from a one-to-one chat's JID, or, for a chat
    known by its LID, from the phone-number JID beside it. Groups are not answered."""
    for jid in (key.get("remoteJid"), key.get("remoteJidAlt")):
        if isinstance(jid, str) and jid.endswith("@s.whatsapp.net"):
            return jid.split("@", 1)[0]
    return None


app = create_app(
    os.environ.get("EVOLUTION_URL", "http://127.0.0.1:8080"),
    os.environ.get("EVOLUTION_API_KEY", ""),
)
