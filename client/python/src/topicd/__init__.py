"""Python client for topicd, the multi-tenant topic-modeling gRPC server.

>>> import topicd
>>> with topicd.Client("localhost:50051", token="...") as c:
...     fit = c.fit("acme", texts, embeddings=vectors, window=(start, end))
...     c.merge("acme", fit.version)
...     for t in c.top_topics("acme", limit=5):
...         print(t.rank, t.label, t.message_count)

:class:`Client` blocks; :class:`AsyncClient` has the same methods as coroutines (grpc.aio).
Every failure is a :class:`TopicdError` subclass named after the gRPC status code.
"""

from ._aio import AsyncClient
from ._client import Client
from ._core import NO_RETRY, RetryPolicy
from ._errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    TopicdError,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from ._types import (
    ActivateResult,
    Assignment,
    DailyCount,
    DeleteResult,
    Document,
    FitParams,
    FitResult,
    FoundTopic,
    FoundTopics,
    Keyword,
    LabelResult,
    Faq,
    FaqEntry,
    FaqArticle,
    MergedWindow,
    MergeResult,
    ModelDetails,
    ModelInfo,
    StageTimings,
    TenantSummary,
    Topic,
    TopicChange,
    TopicChanges,
    TopicMap,
    TopicMatch,
    TopicPoint,
    TopTopic,
    TopTopics,
    TransformResult,
    Window,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "AsyncClient",
    "RetryPolicy",
    "NO_RETRY",
    # errors
    "TopicdError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
    # values
    "Document",
    "Window",
    "FitParams",
    "Keyword",
    "Topic",
    "Assignment",
    "StageTimings",
    "FitResult",
    "MergeResult",
    "TopicMatch",
    "TransformResult",
    "DailyCount",
    "TopTopic",
    "TopTopics",
    "ModelInfo",
    "ModelDetails",
    "ActivateResult",
    "DeleteResult",
    "MergedWindow",
    "TenantSummary",
    "TopicPoint",
    "TopicMap",
    "FoundTopic",
    "FoundTopics",
    "TopicChange",
    "TopicChanges",
    "LabelResult",
    "Faq",
    "FaqEntry",
    "FaqArticle",
]
