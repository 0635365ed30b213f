"""The official OpenAI SDK's Responses API through the gateway to a provider without one (an
OpenAI-compatible mock routed as Groq): `responses.create`, `responses.stream`, tool calls with
their outputs sent back, `previous_response_id` and the reads of a stored response."""

import openai
import pytest

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}


@pytest.fixture()
def client(gateway, mock_a):
    return openai.OpenAI(
        api_key="gsk-client", base_url=gateway.v1, max_retries=0,
        default_headers={"x-portkey-provider": "groq", "x-portkey-custom-host": mock_a.v1})


def test_create_returns_a_response_with_output_text(client, mock_a):
    r = client.responses.create(model="llama-3.3-70b", instructions="be brief", input="hi")
    assert r.object == "response"
    assert r.status == "completed"
    assert r.output_text == mock_a.greeting
    assert r.usage.input_tokens == 5 and r.usage.output_tokens == 3


def test_stream_yields_text_deltas_and_a_completed_response(client, mock_a):
    with client.responses.stream(model="llama-3.3-70b", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == mock_a.greeting
    assert final.output_text == mock_a.greeting
    assert final.status == "completed"


@pytest.mark.parametrize("stream", [False, True])
def test_function_calls_and_their_outputs_round_trip(client, mock_a, stream):
    kwargs = dict(model="llama-3.3-70b", input="Weather in Paris?", tools=[WEATHER],
                  tool_choice="required")
    if stream:
        with client.responses.stream(**kwargs) as s:
            r = s.get_final_response()
    else:
        r = client.responses.create(**kwargs)
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].arguments == '{"city":"mock"}'
    # The output goes back on the stored conversation.
    done = client.responses.create(
        model="llama-3.3-70b", previous_response_id=r.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"}])
    assert done.output_text == mock_a.greeting
    assert done.previous_response_id == r.id


def test_a_stored_response_is_retrieved_listed_and_deleted(client):
    r = client.responses.create(model="llama-3.3-70b", input="remember me")
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text
    items = client.responses.input_items.list(r.id)
    assert items.data[0].content[0].text == "remember me"
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
