"""Server reflection v1alpha, as grpcio-reflection's stock client speaks it."""

from __future__ import annotations

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def test_reflection_v1alpha_lists_and_describes(server):
    with grpc.insecure_channel(server.target) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = db.get_services()
        assert "topics.v1.Topics" in services
        assert "grpc.health.v1.Health" in services
        pool = DescriptorPool(db)
        fit = pool.FindMessageTypeByName("topics.v1.FitRequest")
        assert [f.name for f in fit.fields] == [
            "tenant_id",
            "documents",
            "window",
            "params",
            "embeddings",
        ]
        assert fit.fields_by_name["documents"].message_type.full_name == "topics.v1.Document"
        svc = pool.FindServiceByName("topics.v1.Topics")
        assert {m.name for m in svc.methods} == {
            "Fit",
            "Merge",
            "Transform",
            "GetTopTopics",
            "ListModels",
            "GetModel",
            "ActivateModel",
            "DeleteTenant",
            "ListMergedWindows",
            "ListTenants",
            "GetTopicMap",
            "FindTopics",
            "GetTopicChanges",
            "SetTopicLabel",
            "GetFaq",
            "SetArticles",
            "ListArticles",
            "SetDefinedTopics",
            "GetDefinedTopics",
            "EditTopics",
            "GetTopicTree",
        }


def test_reflection_works_without_a_token(auth_server):
    with grpc.insecure_channel(auth_server.target) as channel:
        assert "topics.v1.Topics" in ProtoReflectionDescriptorDatabase(channel).get_services()
