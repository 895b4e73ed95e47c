"""The blocking client."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from . import _convert as conv
from . import _core
from . import _types as t
from ._errors import from_rpc_error
from ._proto.topics.v1 import topics_pb2 as pb
from ._proto.topics.v1 import topics_pb2_grpc as pb_grpc

log = logging.getLogger("topicd")

R = TypeVar("R")


class Client:
    """A blocking topicd client.

    ``target`` is ``host:port``; ``token`` is sent as ``authorization: Bearer <token>``;
    ``tls`` is None (plaintext), True (system roots), a CA bundle path or
    ``grpc.ChannelCredentials``; ``timeout`` is each attempt's deadline in seconds (None: none).
    ``retry`` governs retries of idempotent calls on UNAVAILABLE (:class:`RetryPolicy`);
    ``options`` are extra gRPC channel options. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        target: str = "localhost:50051",
        token: Optional[str] = None,
        tls: _core.TlsArg = None,
        timeout: Optional[float] = 30.0,
        *,
        retry: Optional[_core.RetryPolicy] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.retry = retry if retry is not None else _core.RetryPolicy()
        self._metadata = _core.metadata(token)
        creds = _core.credentials(tls)
        opts = _core.channel_options(options)
        if creds is None:
            self._channel = grpc.insecure_channel(target, options=opts)
        else:
            self._channel = grpc.secure_channel(target, creds, options=opts)
        self._stub = pb_grpc.TopicsStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    # --- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel; calls after this fail."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(
        self,
        name: str,
        fn: Callable[..., Any],
        request: Any,
        convert: Callable[[Any], R],
        idempotent: bool,
        timeout: Optional[float],
    ) -> R:
        policy = self.retry if idempotent else _core.NO_RETRY
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = fn(request, timeout=deadline, metadata=self._metadata)
            except grpc.RpcError as e:
                code = e.code() if hasattr(e, "code") else None
                if code in _core.RETRYABLE and attempt < policy.max_attempts:
                    wait = policy.backoff(attempt)
                    log.debug("%s: %s, retry %d in %.2fs", name, code, attempt, wait)
                    time.sleep(wait)
                    continue
                raise from_rpc_error(e, method=name, attempts=attempt) from None
            return convert(resp)

    # --- the API ----------------------------------------------------------------------------

    def fit(
        self,
        tenant: str,
        texts: Iterable[Union[str, t.Document, Mapping[str, Any]]],
        created_at: Any = None,
        window: Any = None,
        embeddings: Any = None,
        params: Union[None, t.FitParams, Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
    ) -> t.FitResult:
        """Fits a day model on ``texts`` and stores it as a candidate version (not retried).

        ``texts``: strings (ids become their indexes), :class:`Document` or dicts.
        ``created_at``: one timestamp for all, or one per document. ``window``: a
        :class:`Window` or ``(start, end)``. ``embeddings``: a 2-D numpy array or lists of floats,
        one row per document (the server embeds the texts when omitted). ``params``:
        :class:`FitParams` or a dict of its fields.
        """
        req = _core.fit_request(tenant, texts, created_at, window, embeddings, params)
        return self._call("Fit", self._stub.Fit, req, conv.fit_result, False, timeout)

    def merge(
        self,
        tenant: str,
        day_version: str,
        force: bool = False,
        *,
        base_version: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> t.MergeResult:
        """Merges a candidate day model into the active one and activates the result (not
        retried). A window merged before raises AlreadyExists unless ``force``."""
        req = _core.merge_request(tenant, day_version, force, base_version)
        return self._call("Merge", self._stub.Merge, req, conv.merge_result, False, timeout)

    def transform(
        self,
        tenant: str,
        texts: Optional[Sequence[str]] = None,
        embeddings: Any = None,
        *,
        timeout: Optional[float] = None,
    ) -> t.TransformResult:
        """Tags texts (or precomputed embeddings) with the active model's topics."""
        req = _core.transform_request(tenant, texts, embeddings)
        return self._call(
            "Transform", self._stub.Transform, req, conv.transform_result, True, timeout
        )

    def top_topics(
        self, tenant: str, limit: int = 10, trend: bool = False, *, timeout: Optional[float] = None
    ) -> t.TopTopics:
        """The tenant's top topics (the dashboard snapshot); ``trend`` adds daily counts."""
        req = _core.top_topics_request(tenant, limit, trend)
        return self._call(
            "GetTopTopics", self._stub.GetTopTopics, req, conv.top_topics, True, timeout
        )

    def list_models(
        self, tenant: Optional[str], limit: int = 0, *, timeout: Optional[float] = None
    ) -> List[t.ModelInfo]:
        """The tenant's model versions (``tenant=None``: every tenant's, admin only)."""
        req = _core.list_models_request(tenant, limit)
        return self._call(
            "ListModels",
            self._stub.ListModels,
            req,
            lambda m: [conv.model_info(x) for x in m.models],
            True,
            timeout,
        )

    def get_model(
        self,
        tenant: str,
        version: Optional[str] = None,
        *,
        include_retired: bool = False,
        timeout: Optional[float] = None,
    ) -> t.ModelDetails:
        """One model version (default: the active one) with its topics."""
        req = _core.get_model_request(tenant, version, include_retired)
        return self._call("GetModel", self._stub.GetModel, req, conv.model_details, True, timeout)

    def activate(
        self, tenant: str, version: str, *, timeout: Optional[float] = None
    ) -> t.ActivateResult:
        """Makes ``version`` the tenant's active model (rollback; not retried)."""
        req = pb.ActivateModelRequest(tenant_id=tenant, version=version)
        return self._call(
            "ActivateModel", self._stub.ActivateModel, req, conv.activate_result, False, timeout
        )

    def delete_tenant(self, tenant: str, *, timeout: Optional[float] = None) -> t.DeleteResult:
        """Deletes every model, file and row of the tenant (not retried)."""
        req = pb.DeleteTenantRequest(tenant_id=tenant)
        return self._call(
            "DeleteTenant", self._stub.DeleteTenant, req, conv.delete_result, False, timeout
        )

    def list_merged_windows(
        self, tenant: str, *, timeout: Optional[float] = None
    ) -> List[t.MergedWindow]:
        """Windows already merged for the tenant."""
        req = pb.ListMergedWindowsRequest(tenant_id=tenant)
        return self._call(
            "ListMergedWindows",
            self._stub.ListMergedWindows,
            req,
            conv.merged_windows,
            True,
            timeout,
        )

    def list_tenants(self, *, timeout: Optional[float] = None) -> List[t.TenantSummary]:
        """The tenants with an active model that the token may read (admin: all)."""
        req = pb.ListTenantsRequest()
        return self._call(
            "ListTenants", self._stub.ListTenants, req, conv.tenants, True, timeout
        )

    def topic_map(
        self, tenant: str, version: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> t.TopicMap:
        """A deterministic 2-D layout of the model's topics (default: the active version)."""
        req = _core.topic_map_request(tenant, version)
        return self._call(
            "GetTopicMap", self._stub.GetTopicMap, req, conv.topic_map, True, timeout
        )

    def find_topics(
        self, tenant: str, query: str, limit: int = 5, *, timeout: Optional[float] = None
    ) -> t.FoundTopics:
        """The active topics nearest to ``query`` (embedded by the server), nearest first."""
        req = _core.find_topics_request(tenant, query, limit)
        return self._call(
            "FindTopics", self._stub.FindTopics, req, conv.found_topics, True, timeout
        )

    def topic_changes(
        self, tenant: str, limit: int = 5, *, timeout: Optional[float] = None
    ) -> t.TopicChanges:
        """New, retired, rising and falling topics of the active model (``limit`` per list)."""
        req = _core.topic_changes_request(tenant, limit)
        return self._call(
            "GetTopicChanges", self._stub.GetTopicChanges, req, conv.topic_changes, True, timeout
        )

    def get_faq(
        self,
        tenant: str,
        format: str = "",
        *,
        gaps_only: bool = False,
        timeout: Optional[float] = None,
    ) -> t.Faq:
        """The tenant's FAQ (issue 29): one entry per topic of the active model, most asked
        first; ``format`` "markdown" or "csv" also fills ``text`` with that document;
        ``gaps_only`` keeps the entries no help-centre article answers (knowledge gaps)."""
        req = _core.faq_request(tenant, format, gaps_only)
        return self._call("GetFaq", self._stub.GetFaq, req, conv.faq, True, timeout)

    def set_topic_label(
        self,
        tenant: str,
        topic_id: int,
        label: Optional[str],
        *,
        timeout: Optional[float] = None,
    ) -> t.LabelResult:
        """Gives topic ``topic_id`` an operator's label (``""`` or None clears it), kept across
        merges; stored as a new active version. Setting the same label again changes nothing,
        so the call is retried like a read."""
        req = _core.set_topic_label_request(tenant, topic_id, label)
        return self._call(
            "SetTopicLabel", self._stub.SetTopicLabel, req, conv.label_result, True, timeout
        )

    # --- knowledge base, defined topics, hand edits, topic tree ------------------------------

    def set_articles(
        self,
        tenant: str,
        articles: Iterable[Union[t.Article, Mapping[str, Any]]],
        *,
        timeout: Optional[float] = None,
    ) -> t.ArticlesSet:
        """Replaces the tenant's help-centre articles (:class:`Article` or dicts with ``id``,
        ``title``, optional ``url`` and ``summary``; an empty list removes them all); the server
        embeds them to find the FAQ's knowledge gaps. Write role. Setting the same set again
        changes nothing, so the call is retried like a read."""
        req = _core.set_articles_request(tenant, articles)
        return self._call(
            "SetArticles", self._stub.SetArticles, req, conv.articles_set, True, timeout
        )

    def list_articles(self, tenant: str, *, timeout: Optional[float] = None) -> t.Articles:
        """The tenant's help-centre articles, in the order they were set."""
        req = pb.ListArticlesRequest(tenant_id=tenant)
        return self._call(
            "ListArticles", self._stub.ListArticles, req, conv.articles_list, True, timeout
        )

    def set_defined_topics(
        self,
        tenant: str,
        topics: Iterable[Union[str, t.DefinedTopic, Mapping[str, Any]]],
        *,
        timeout: Optional[float] = None,
    ) -> t.DefinedTopics:
        """Replaces the tenant's defined topics (names, :class:`DefinedTopic` or dicts with
        ``name``, optional ``description`` and ``examples``; 1 to 200); they take effect at the
        next Fit. Write role. Retried like a read (setting the same list again is the same)."""
        req = _core.set_defined_topics_request(tenant, topics)
        return self._call(
            "SetDefinedTopics", self._stub.SetDefinedTopics, req, conv.defined, True, timeout
        )

    def get_defined_topics(
        self, tenant: str, *, timeout: Optional[float] = None
    ) -> t.DefinedTopics:
        """The tenant's defined topics with their ids in the active model (NotFound without a
        list)."""
        req = pb.GetDefinedTopicsRequest(tenant_id=tenant)
        return self._call(
            "GetDefinedTopics", self._stub.GetDefinedTopics, req, conv.defined, True, timeout
        )

    def edit_topics(
        self,
        tenant: str,
        action: str,
        topic_id: int,
        into_topic_id: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
    ) -> t.EditResult:
        """A hand edit of the active model, stored as a new version (rollback undoes it); admin
        role. ``action``: "merge" (``topic_id`` into ``into_topic_id``), "hide", "unhide",
        "split" or "cancel_split". An edit already in effect makes no version
        (``changed=False``), so the call is retried like a read."""
        req = _core.edit_topics_request(tenant, action, topic_id, into_topic_id)
        return self._call(
            "EditTopics", self._stub.EditTopics, req, conv.edit_result, True, timeout
        )

    def merge_topics(
        self, tenant: str, topic_id: int, into_topic_id: int, *, timeout: Optional[float] = None
    ) -> t.EditResult:
        """Merges ``topic_id`` into ``into_topic_id``: its id answers as an alias of that topic
        from then on (``edit_topics(tenant, "merge", ...)``)."""
        return self.edit_topics(tenant, "merge", topic_id, into_topic_id, timeout=timeout)

    def hide_topic(
        self, tenant: str, topic_id: int, *, timeout: Optional[float] = None
    ) -> t.EditResult:
        """Hides a topic (spam, tests): kept in the model, absent from rankings, the map and the
        tree; Transform answers -1 near it."""
        return self.edit_topics(tenant, "hide", topic_id, timeout=timeout)

    def unhide_topic(
        self, tenant: str, topic_id: int, *, timeout: Optional[float] = None
    ) -> t.EditResult:
        """Shows a hidden topic again."""
        return self.edit_topics(tenant, "unhide", topic_id, timeout=timeout)

    def split_topic(
        self, tenant: str, topic_id: int, *, timeout: Optional[float] = None
    ) -> t.EditResult:
        """Asks the next nightly merge to split the topic where its documents divide
        (``edit_topics(tenant, "cancel_split", id)`` withdraws it)."""
        return self.edit_topics(tenant, "split", topic_id, timeout=timeout)

    def get_topic_tree(
        self,
        tenant: str,
        version: Optional[str] = None,
        themes: int = 0,
        *,
        timeout: Optional[float] = None,
    ) -> t.TopicTree:
        """The topic tree of a version (default: the active one) and its ``themes`` (0: about
        the square root of the number of topics; at most 100)."""
        req = _core.topic_tree_request(tenant, version, themes)
        return self._call(
            "GetTopicTree", self._stub.GetTopicTree, req, conv.topic_tree, True, timeout
        )

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """grpc.health.v1 status of ``service`` ("" = the server, or "topics.v1.Topics"):
        "SERVING", "NOT_SERVING", ... Unreachable servers raise :class:`Unavailable`."""
        req = health_pb2.HealthCheckRequest(service=service)
        return self._call(
            "Health.Check",
            self._health.Check,
            req,
            lambda m: health_pb2.HealthCheckResponse.ServingStatus.Name(m.status),
            True,
            timeout,
        )


__all__ = ["Client"]
