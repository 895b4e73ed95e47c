"""What the sync and async clients share: retry policy, channel credentials and options,
auth metadata, and the request builders of each method."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

import grpc

from . import _convert as conv
from ._proto.topics.v1 import topics_pb2 as pb

#: ``tls`` argument: None/False = plaintext, True = TLS with the system's roots, a path = TLS
#: trusting that PEM CA bundle, or ready-made ``grpc.ChannelCredentials``.
TlsArg = Union[None, bool, str, "os.PathLike[str]", grpc.ChannelCredentials]

#: Largest message either way (the server's default --max-request-bytes is 256 MiB).
MAX_MESSAGE_BYTES = 256 << 20


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of idempotent calls (Transform, GetTopTopics, ListModels, GetModel,
    ListMergedWindows, health) on ``UNAVAILABLE``: up to ``max_attempts`` tries in all, waiting
    ``min(max_backoff, initial_backoff * multiplier ** (n - 1))`` after the n-th failure, scaled
    by a random factor in ``[1 - jitter, 1]``. Fit, Merge, ActivateModel and DeleteTenant are
    never retried (a retry could repeat work the server already did)."""

    max_attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")

    def backoff(self, failures: int, rng: Optional[random.Random] = None) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (failures - 1))
        r = (rng or random).random()
        return base * (1.0 - self.jitter * r)


#: No retries at all.
NO_RETRY = RetryPolicy(max_attempts=1)

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


def credentials(tls: TlsArg) -> Optional[grpc.ChannelCredentials]:
    if tls is None or tls is False:
        return None
    if tls is True:
        return grpc.ssl_channel_credentials()
    if isinstance(tls, grpc.ChannelCredentials):
        return tls
    if isinstance(tls, (str, os.PathLike)):
        with open(tls, "rb") as f:
            return grpc.ssl_channel_credentials(root_certificates=f.read())
    raise TypeError(
        "tls must be None/False, True, a CA bundle path or grpc.ChannelCredentials, "
        f"not {type(tls).__name__}"
    )


def channel_options(extra: Optional[Sequence[Tuple[str, Any]]]) -> List[Tuple[str, Any]]:
    opts = {
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        # Reconnect soon after a server restart instead of gRPC's 1 s .. 120 s default, so the
        # client's own retries can reach a server that came back. (Not min_reconnect_backoff_ms:
        # gRPC uses that as the connect timeout, 20 s by default.)
        "grpc.initial_reconnect_backoff_ms": 200,
        "grpc.max_reconnect_backoff_ms": 5000,
    }
    for k, v in extra or ():
        opts[k] = v
    return list(opts.items())


def metadata(token: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    if token is None:
        return ()
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    return (("authorization", f"Bearer {token}"),)


# --- requests, one per method (shared by Client and AsyncClient) --------------------------


def merge_request(tenant: str, day_version: str, force: bool, base_version: Optional[str]):
    req = pb.MergeRequest(tenant_id=tenant, day_version=day_version, force=force)
    if base_version is not None:
        req.base_version = base_version
    return req


def top_topics_request(tenant: str, limit: int, trend: bool):
    return pb.GetTopTopicsRequest(tenant_id=tenant, limit=limit, include_trend=trend)


def list_models_request(tenant: Optional[str], limit: int):
    return pb.ListModelsRequest(tenant_id=tenant or "", limit=limit)


def get_model_request(tenant: str, version: Optional[str], include_retired: bool):
    req = pb.GetModelRequest(tenant_id=tenant, include_retired=include_retired)
    if version is not None:
        req.version = version
    return req


fit_request = conv.fit_request
transform_request = conv.transform_request


def topic_map_request(tenant: str, version: Optional[str]):
    req = pb.GetTopicMapRequest(tenant_id=tenant)
    if version:
        req.version = version
    return req


def find_topics_request(tenant: str, query: str, limit: int):
    return pb.FindTopicsRequest(tenant_id=tenant, query=query, limit=limit)


def topic_changes_request(tenant: str, limit: int):
    return pb.GetTopicChangesRequest(tenant_id=tenant, limit=limit)


def faq_request(tenant: str, format: str = "", gaps_only: bool = False):
    if format not in ("", "json", "markdown", "csv"):
        raise ValueError(f"format {format!r} is not one of json, markdown, csv")
    return pb.GetFaqRequest(tenant_id=tenant, format=format, gaps_only=bool(gaps_only))


def set_topic_label_request(tenant: str, topic_id: int, label: Optional[str]):
    return pb.SetTopicLabelRequest(tenant_id=tenant, topic_id=int(topic_id), label=label or "")


def set_articles_request(tenant: str, items):
    return pb.SetArticlesRequest(tenant_id=tenant, articles=conv.articles(items, "SetArticles"))


def set_defined_topics_request(tenant: str, items):
    if isinstance(items, (str, bytes)):
        raise conv._bad("topics is a string; pass a list of names or DefinedTopics", "SetDefinedTopics")
    return pb.SetDefinedTopicsRequest(
        tenant_id=tenant, topics=conv.defined_topics(items, "SetDefinedTopics")
    )


#: EditTopics' actions.
EDIT_ACTIONS = ("merge", "hide", "unhide", "split", "cancel_split")


def edit_topics_request(tenant: str, action: str, topic_id: int, into_topic_id: Optional[int]):
    if action not in EDIT_ACTIONS:
        raise ValueError(f"action {action!r} is not one of {', '.join(EDIT_ACTIONS)}")
    req = pb.EditTopicsRequest(tenant_id=tenant, action=action, topic_id=int(topic_id))
    if into_topic_id is not None:
        req.into_topic_id = int(into_topic_id)
    return req


def topic_tree_request(tenant: str, version: Optional[str], themes: int):
    req = pb.GetTopicTreeRequest(tenant_id=tenant, themes=int(themes))
    if version:
        req.version = version
    return req
