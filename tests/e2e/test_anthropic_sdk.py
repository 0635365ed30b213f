"""The official Anthropic SDK against `/v1/messages`: natively to a Claude-shaped upstream, and
translated through chat completions to an OpenAI-compatible one — plain, streamed and with tool
use — with Anthropic's typed errors."""

import json

import anthropic
import pytest

from conftest import start_mock, stop

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]},
}


@pytest.fixture(scope="module")
def claude_mock():
    """A mock that answers `/v1/messages` in Anthropic's shape."""
    m = start_mock("mock-anthropic", "--fast")
    yield m
    stop(m.proc)


def through(gateway, provider: str, host: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-client", base_url=gateway.url, max_retries=0,
        default_headers={"x-portkey-provider": provider, "x-portkey-custom-host": host})


def test_messages_to_a_claude_upstream_pass_through(gateway, claude_mock):
    client = through(gateway, "anthropic", claude_mock.v1)
    msg = client.messages.create(model="claude-sonnet-4-5", max_tokens=32,
                                 messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "Hello from mock-anthropic"


def test_messages_to_an_openai_compatible_upstream(gateway, mock_a):
    client = through(gateway, "openai", mock_a.v1)
    msg = client.messages.create(model="gpt-4o-mini", max_tokens=32, system="be brief",
                                 messages=[{"role": "user", "content": "hi"}])
    assert msg.type == "message"
    assert msg.content[0].text == mock_a.greeting
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 5 and msg.usage.output_tokens == 3


def test_streamed_messages_from_an_openai_compatible_upstream(gateway, mock_a):
    client = through(gateway, "openai", mock_a.v1)
    with client.messages.stream(model="gpt-4o-mini", max_tokens=32,
                                messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == mock_a.greeting
    assert final.content[0].text == mock_a.greeting
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 3


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_round_trip_through_translation(gateway, mock_a, stream):
    client = through(gateway, "openai", mock_a.v1)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    kwargs = dict(model="gpt-4o-mini", max_tokens=64, tools=[WEATHER],
                  tool_choice={"type": "any"}, messages=messages)
    if stream:
        with client.messages.stream(**kwargs) as s:
            msg = s.get_final_message()
    else:
        msg = client.messages.create(**kwargs)
    assert msg.stop_reason == "tool_use"
    call = next(b for b in msg.content if b.type == "tool_use")
    assert call.name == "get_weather"
    assert call.input == {"city": "mock"}
    # The tool's result goes back as a tool_result block; the model answers in text.
    messages += [{"role": "assistant", "content": msg.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                               "content": "sunny"}]}]
    done = client.messages.create(model="gpt-4o-mini", max_tokens=64, tools=[WEATHER],
                                  messages=messages)
    assert done.stop_reason == "end_turn"
    assert done.content[0].text == mock_a.greeting


def test_errors_are_anthropic_typed(gateway, mock_a):
    client = anthropic.Anthropic(api_key="k", base_url=gateway.url, max_retries=0,
                                 default_headers={"x-portkey-provider": "no-such-provider"})
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    body = e.value.body
    assert body["type"] == "error", json.dumps(body)
    assert body["error"]["type"] == "invalid_request_error"
