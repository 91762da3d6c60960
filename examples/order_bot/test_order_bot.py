"""The order bot's tests, written with hookcatcher's pytest plugin: the `gateway` fixture
delivers Evolution API webhooks into the bot in this process, and the `hookcatcher` fixture
stands in for Evolution's REST API, so every reply the bot sends is captured there."""

from __future__ import annotations

from pathlib import Path

import pytest
from order_bot import HELP, MENU, create_app
from starlette.applications import Starlette

from hookcatcher import Catcher
from hookcatcher.testing.plugin import Gateway

FIXTURES = Path(__file__).parent / "fixtures"
REPLIES = "path:/message/sendText/*"  # Evolution's send-text endpoint, any instance


@pytest.fixture
def bot(hookcatcher: Catcher) -> Starlette:
    """The bot, with the hookcatcher fixture as its Evolution API."""
    return create_app(evolution_url=hookcatcher.url, api_key="test-key")


def test_a_customer_asking_for_the_menu_gets_it(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    gateway.send(
        bot, "messages.upsert", path="/webhook", overrides={"data.message.conversation": "menu"}
    )
    reply = hookcatcher.wait_for(REPLIES)
    assert reply.path == "/message/sendText/sales"
    assert reply.header("apikey") == "test-key"
    assert reply.body == {"number": "5511900000001", "text": MENU}


def test_an_order_is_confirmed_with_its_number(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    for message_id, text in (
        ("3EB0000000000000000A", "order 2 margherita"),
        ("3EB0000000000000000B", "order 1 calzone"),
    ):
        gateway.send(
            bot,
            "messages.upsert",
            path="/webhook",
            overrides={"data.key.id": message_id, "data.message.conversation": text},
        )
    second = hookcatcher.wait_for(REPLIES, count=2)
    assert second.body["text"].startswith("Order 2: 1 calzone.")
    assert bot.state.orders == [("5511900000001", "2 margherita"), ("5511900000001", "1 calzone")]


def test_per_event_urls_are_handled_like_the_single_one(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    report = gateway.send(bot, "messages.upsert", path="/webhook", by_events=True)
    assert report.sent[0].attempt.url == "http://testserver/webhook/messages-upsert"
    assert hookcatcher.wait_for(REPLIES).body["text"] == HELP.format(name="Ana Example")


def test_the_shops_own_messages_get_no_reply(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    report = gateway.send(
        bot, "messages.upsert", path="/webhook", overrides={"data.key.fromMe": True}
    )
    assert '"ignored":"nothing to answer"' in report.sent[0].attempt.response_body
    assert hookcatcher.events() == []


def test_group_messages_get_no_reply(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    gateway.send(bot, "evolution/v2/messages.upsert.group", path="/webhook")
    assert hookcatcher.events() == []


def test_a_chat_known_by_its_lid_is_answered_on_the_phone_number(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    gateway.send(bot, "messages.upsert", variant="lid", path="/webhook")
    assert hookcatcher.wait_for(REPLIES).body["number"] == "5511900000003"


def test_a_delivery_the_gateway_retries_is_answered_once(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    report = gateway.replay(bot, "messages.upsert", path="/webhook", repeat=2)
    assert len(report.sent) == 2
    hookcatcher.wait_for(REPLIES)
    assert '"ignored":"already handled"' in report.sent[1].attempt.response_body
    assert len(hookcatcher.events(REPLIES)) == 1


def test_an_order_sent_as_a_reply_before_evolution_2_2(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    gateway.replay(bot, FIXTURES / "messages.upsert.quoted-order.json", path="/webhook")
    reply = hookcatcher.wait_for(f"{REPLIES} number:5511900000002")
    assert reply.body["text"].startswith("Order 1: 1 calzone.")


def test_delivery_statuses_are_kept_in_order(gateway: Gateway, bot: Starlette) -> None:
    gateway.send(
        bot,
        "messages.update",
        variant="read",
        path="/webhook",
        by_events=True,
        overrides={"data.status": "DELIVERY_ACK"},
    )
    gateway.send(bot, "messages.update", variant="read", path="/webhook", by_events=True)
    assert bot.state.receipts == {"3EB0D1E2F3A4B5C6D7E8": ["DELIVERY_ACK", "READ"]}


def test_events_the_bot_does_not_use_are_answered_2xx(gateway: Gateway, bot: Starlette) -> None:
    report = gateway.replay(
        bot,
        [
            "connection.update",
            "qrcode.updated",
            "presence.update",
            "chats.update",
            "contacts.upsert",
        ],
        path="/webhook",
        by_events=True,
    )
    assert len(report.sent) == 5


@pytest.mark.hookcatcher(respond=503)
def test_a_reply_evolution_refuses_is_kept_as_unsent(
    gateway: Gateway, hookcatcher: Catcher, bot: Starlette
) -> None:
    gateway.send(
        bot, "messages.upsert", path="/webhook", overrides={"data.message.conversation": "menu"}
    )
    assert hookcatcher.wait_for(REPLIES).answer.status == 503
    assert bot.state.unsent == [("5511900000001", MENU)]
