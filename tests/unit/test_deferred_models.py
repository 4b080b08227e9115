"""The models of rarely used endpoints load on first use, and work then as if eager.

``import musicapi_async`` creates only the models every client needs: the table, the
converter and the client name the others (``_model_base.model_name``), so a name that
does not match its class would fail silently at run time. These tests hold the names to
the classes, and check a cold process end to end.
"""

from __future__ import annotations

import subprocess
import sys
import typing

import attrs

from musicapi_async import _client, _convert
from musicapi_async._model_base import model_name, resolve
from musicapi_async._requests import GenerationRequest, WebhookRequest

# The modules ``import musicapi_async`` must not load: models (and their validators) of
# the sonic utilities, sonic tasks from audio, batches, nuro, studio, producer and
# riffusion; the unions of every request model; webhook verification.
DEFERRED = (
    "_batch_models",
    "_sonic_models",
    "_sonic_task_models",
    "_nuro_models",
    "_studio_models",
    "_fuzz_models",
    "_requests",
    "_validation_fuzz",
    "_sonic_validation",
    "_sonic_task_validation",
    "_webhooks",
)

# Run in a fresh interpreter: what a plain import loads, then each deferred family used
# through the public API from cold (its models, hooks, validators and row).
_COLD = """
import sys
import musicapi_async as m

deferred = {deferred!r}
loaded = [n for n in deferred if "musicapi_async." + n in sys.modules]
assert not loaded, loaded

cover = m.UploadCoverRequest(url="https://example.com/a.mp3", custom_mode=False, mv="sonic-v5")
assert m.to_wire(cover) == {{"url": "https://example.com/a.mp3", "custom_mode": False,
                            "mv": "sonic-v5"}}, m.to_wire(cover)
m.validate_body("sonic.upload_cover", m.to_wire(cover))
assert m.endpoint_of(cover) == "sonic.upload_cover"

studio = m.request_from_wire(m.StudioRequest, {{"prompt": "rain", "config": {{"mode": "regular"}}}})
assert m.to_wire(studio)["config"] == {{"mode": "regular"}}
assert m.endpoint_of(m.ProducerRequest(sound="lofi")) == "producer.create"
m.validate_body("producer.create", {{"task_type": "create_music", "sound": "lofi"}})
assert m.cost_of("producer.create", {{"task_type": "extend_music"}}) == (12, "credits")
assert m.endpoint_of(m.NuroVocalRequest(lyrics="la")) == "nuro.create"
assert isinstance(m.RiffusionRequest(), m.GenerationRequest)
assert m.KIND_TYPES["wav"].__name__ == "WavRequest"
assert m.endpoint_of(m.SonicBatchRequest(items=(m.SonicRequest(),))) == "sonic.batch"

missing = [n for n in deferred if "musicapi_async." + n not in sys.modules]
assert missing == ["_webhooks"], missing
"""


def test_deferred_modules_load_and_work_on_first_use() -> None:
    """A plain import loads none of the deferred modules; each family then works cold."""
    code = _COLD.format(deferred=DEFERRED)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_converter_names_real_request_models() -> None:
    """Every request the converter omits unset fields of by name is a model of ours."""
    for name in _convert._OMITTING_UNSET:
        cls = resolve(name)
        assert attrs.has(cls), name
        assert model_name(cls) == name


def test_webhook_requests_are_the_generation_requests_with_webhook_fields() -> None:
    """``WebhookRequest`` and the client's ``_NO_WEBHOOK`` names split the generation
    requests by whether they have a ``webhook_url`` field."""
    generation = set(typing.get_args(GenerationRequest))
    with_hook = {t for t in generation if "webhook_url" in attrs.fields_dict(t)}
    assert set(typing.get_args(WebhookRequest)) == with_hook
    assert {model_name(t) for t in generation - with_hook} == _client._NO_WEBHOOK
