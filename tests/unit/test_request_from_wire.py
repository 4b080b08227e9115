"""``request_from_wire`` is ``to_wire`` reversed, through the package's one converter."""

from __future__ import annotations

from typing import Any

import pytest

from musicapi_async import (
    InvalidRequest,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    StudioConfig,
    StudioRequest,
    UploadRequest,
    endpoint_of,
    request_from_wire,
    to_wire,
)

REQUESTS: list[Any] = [
    SonicRequest(
        task_type=SonicTaskType.EXTEND_MUSIC,
        continue_clip_id="c1",
        continue_at=30.5,
        prompt="[Bridge]",
        mv="sonic-v5",
        custom_mode=True,
    ),
    PersonaRequest(name="Nova", continue_clip_id="c1", description="warm alto"),
    UploadRequest(url="https://example.com/a.mp3"),
    LyricsRequest(description="rain on a tin roof"),
    NuroVocalRequest(lyrics="[Verse] hush now", gender="female"),
    NuroInstrumentalRequest(description="lofi", genre=("jazz", "hiphop"), duration=60),
    StudioRequest(
        prompt="city pop",
        seed=7,
        config=StudioConfig(mode="extend", source_song_id="s1", context_length=12),
    ),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
def test_every_request_model_round_trips_through_the_wire(request_: Any) -> None:
    """A request read back from its own wire body equals the request."""
    assert request_from_wire(type(request_), to_wire(request_)) == request_


def test_values_keep_their_json_types_so_validation_sees_them() -> None:
    """A float where an integer belongs is not coerced on the way in."""
    request = request_from_wire(StudioRequest, {"prompt": "x", "seed": 1.5})
    assert request.seed == 1.5
    assert isinstance(request.seed, float)


def test_a_studio_config_of_the_wrong_shape_is_a_clear_error() -> None:
    """A ``config`` that is not the wire object says what it should look like."""
    with pytest.raises(InvalidRequest, match="'config' field should be an object"):
        request_from_wire(StudioRequest, {"prompt": "x", "config": "regular"})
    with pytest.raises(InvalidRequest, match=r"Unknown field 'config\.mood'"):
        request_from_wire(StudioRequest, {"prompt": "x", "config": {"mood": "sad"}})


def test_endpoint_of_names_the_create_endpoint_of_each_request() -> None:
    """Each request model maps to the endpoint it is sent to, and a non-request is refused."""
    assert [endpoint_of(r) for r in REQUESTS] == [
        "sonic.create", "sonic.persona", "sonic.upload", "lyrics.create", "nuro.create",
        "nuro.create", "studio.create",
    ]  # fmt: skip
    with pytest.raises(TypeError):
        endpoint_of({"prompt": "x"})
