"""The official `openai` SDK against the gateway, routed with Portkey headers or a config file."""

import asyncio

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture()
def client(gateway, mock_a):
    return OpenAI(
        base_url=gateway.v1,
        api_key="sk-test",
        max_retries=0,
        timeout=10,
        default_headers={"x-portkey-provider": "openai", "x-portkey-custom-host": mock_a.v1},
    )


def test_chat(client, mock_a):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-portkey-provider"] == "openai"
    assert raw.headers["x-portkey-last-used-option-index"] == "config"
    r = raw.parse()
    assert r.object == "chat.completion"
    assert r.model == "gpt-4o-mini"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == mock_a.greeting
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (5, 3, 8)


def test_streaming_chat(client, mock_a):
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert len(chunks) >= 2
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.model == "gpt-4o-mini" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == mock_a.greeting
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks), "no usage chunk unless asked for"


def test_streaming_chat_with_usage(client, mock_a):
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == mock_a.greeting
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.total_tokens == 8
    assert all(c.usage is None for c in chunks[:-1])


def test_async_client_chat_and_stream(gateway, mock_a):
    async def run():
        c = AsyncOpenAI(
            base_url=gateway.v1,
            api_key="sk-test",
            max_retries=0,
            timeout=10,
            default_headers={"x-portkey-provider": "openai", "x-portkey-custom-host": mock_a.v1},
        )
        async with c:
            r = await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            stream = await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
            text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
        return r.choices[0].message.content, text

    assert asyncio.run(run()) == (mock_a.greeting, mock_a.greeting)


def test_embeddings(client):
    r = client.embeddings.create(model="text-embedding-3-small", input=["first", "second"])
    assert r.object == "list"
    assert [d.index for d in r.data] == [0, 1]
    for d in r.data:
        assert len(d.embedding) == 3
        assert all(isinstance(x, float) for x in d.embedding)
    assert r.model == "text-embedding-3-small"


def test_completions(client, mock_a):
    r = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say hi")
    assert r.object == "text_completion"
    assert r.model == "gpt-3.5-turbo-instruct"
    assert r.choices[0].text == mock_a.greeting
    assert r.usage is not None and r.usage.total_tokens == 8


def test_models_list_through_the_provider_header(client, mock_a):
    models = list(client.models.list())
    assert [m.id for m in models] == ["mock-model"]
    assert models[0].owned_by == mock_a.name, "the upstream's own list, proxied"


def test_unknown_provider_is_a_bad_request(gateway, mock_a):
    bad = OpenAI(
        base_url=gateway.v1,
        api_key="sk-test",
        max_retries=0,
        timeout=10,
        default_headers={"x-portkey-provider": "no-such-provider", "x-portkey-custom-host": mock_a.v1},
    )
    with pytest.raises(openai.BadRequestError) as exc:
        bad.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    err = exc.value
    assert err.status_code == 400
    body = err.response.json()
    assert isinstance(body["error"]["message"], str)
    assert "no-such-provider" in body["error"]["message"]
    assert err.body["message"] == body["error"]["message"], "the SDK unwraps error.message"
    assert err.body["param"] == "x-portkey-provider"

    with pytest.raises(openai.BadRequestError):
        bad.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


def test_file_route_by_model_alias_without_portkey_headers(file_gateway, mock_a, mock_b):
    """`model="fast"` picks the file's fallback route: the dead host first, then mock B."""
    plain = OpenAI(base_url=file_gateway.v1, api_key="sk-test", max_retries=0, timeout=10)
    raw = plain.chat.completions.with_raw_response.create(model="fast", messages=MESSAGES)
    assert raw.status_code == 200
    assert raw.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    r = raw.parse()
    assert r.choices[0].message.content == mock_b.greeting

    # The other route uses the provider's base_url (mock A) and rewrites the model.
    r = plain.chat.completions.create(model="plain", messages=MESSAGES)
    assert r.choices[0].message.content == mock_a.greeting
    assert r.model == "gpt-4o-mini"

    chunks = list(plain.chat.completions.create(model="fast", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == mock_b.greeting

    # provider/model uses the configured provider (mock A) with the model after the slash.
    r = plain.chat.completions.create(model="openai/gpt-4.1", messages=MESSAGES)
    assert (r.choices[0].message.content, r.model) == (mock_a.greeting, "gpt-4.1")

    r = plain.embeddings.create(model="fast", input=["x", "y"])
    assert len(r.data) == 2


def test_file_gateway_lists_its_routes_as_models(file_gateway):
    plain = OpenAI(base_url=file_gateway.v1, api_key="sk-test", max_retries=0, timeout=10)
    ids = [m.id for m in plain.models.list()]
    assert ids == ["fast", "plain", "openai/mock-model"], "routes, then the providers' own lists"


def test_file_routes_reject_a_client_custom_host(file_gateway, mock_a):
    """A client may not point an operator's route (and its server key) at another host."""
    c = OpenAI(
        base_url=file_gateway.v1,
        api_key="sk-test",
        max_retries=0,
        timeout=10,
        default_headers={"x-portkey-custom-host": mock_a.v1},
    )
    with pytest.raises(openai.BadRequestError) as exc:
        c.chat.completions.create(model="fast", messages=MESSAGES)
    assert isinstance(exc.value.body["message"], str)


def test_images_generate(client, mock_a):
    r = client.images.generate(model="gpt-image-1", prompt="a lighthouse", n=1, size="1024x1024")
    assert r.data[0].b64_json.startswith("iVBOR")
    assert r.data[0].revised_prompt == "drawn by mock-a"


def test_speech_is_streamed_back_as_bytes(client):
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input="Hello there") as resp:
        assert resp.headers["content-type"] == "audio/mpeg"
        audio = b"".join(resp.iter_bytes())
    assert audio.startswith(b"ID3mock-a")
    assert len(audio) == 16 * 1024


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks translations deprecated
@pytest.mark.parametrize("endpoint", ["transcriptions", "translations"])
def test_transcription_uploads_the_whole_file(client, mock_a, endpoint):
    audio = b"RIFF" + bytes(range(256)) * 400  # ~100 KiB "wav"
    r = getattr(client.audio, endpoint).create(model="whisper-1", file=("clip.wav", audio, "audio/wav"))
    assert r.text == mock_a.greeting
    extra = r.model_extra or {}
    assert extra["bytes_received"] > len(audio)  # the multipart body around the file
