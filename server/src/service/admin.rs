//! Operator RPCs: ActivateModel (rollback) and DeleteTenant.

use tonic::Request;

use super::status::ApiError;
use super::{auth, validate, TopicsService};
use crate::auth::Role;
use crate::proto;

impl TopicsService {
    pub(super) async fn activate_inner(
        &self,
        req: Request<proto::ActivateModelRequest>,
    ) -> Result<proto::ActivateModelResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Admin)?;
        let version = validate::version("version", &req.get_ref().version)?;
        let a = self.lifecycle().activate_version(&tenant, version).await?;
        Ok(proto::ActivateModelResponse {
            tenant_id: tenant.to_string(),
            version: a.record.version.to_string(),
            previous_version: a.previous.map(|v| v.to_string()).unwrap_or_default(),
        })
    }

    pub(super) async fn delete_tenant_inner(
        &self,
        req: Request<proto::DeleteTenantRequest>,
    ) -> Result<proto::DeleteTenantResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Admin)?;
        let d = self.lifecycle().delete_tenant(&tenant).await?;
        Ok(proto::DeleteTenantResponse {
            tenant_id: tenant.to_string(),
            models_deleted: d.models,
            files_deleted: d.files,
        })
    }
}
