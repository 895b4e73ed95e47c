//! Authentication on the Topics service (health and reflection are separate services and stay
//! open): the interceptor checks the bearer token and the caller's request rate, and stores the
//! [`Principal`] in the request; each handler then calls [`authorize`] with the tenant and the
//! role its RPC needs.
//!
//! Roles per RPC: `read` = Transform, GetTopTopics, GetModel, ListModels (one tenant),
//! ListMergedWindows, GetTopicMap, FindTopics, GetTopicChanges, GetDefinedTopics, GetTopicTree,
//! ListTenants (only the tenants the token may read); `write` = Fit, Merge, SetTopicLabel,
//! SetDefinedTopics; `admin` = ListModels across tenants, ActivateModel, DeleteTenant,
//! EditTopics.

use std::sync::Arc;

use tonic::{Request, Status};

use crate::auth::{Authenticator, Principal, Role};
use crate::limits::RateLimiter;
use crate::store::TenantId;

/// The tonic interceptor for the Topics service.
#[derive(Clone)]
pub struct AuthInterceptor {
    auth: Arc<Authenticator>,
    rate: Arc<RateLimiter>,
}

impl AuthInterceptor {
    /// Checks tokens with `auth` (or lets everyone in as a local admin when it has no token
    /// source) and rates with `rate`.
    pub fn new(auth: Arc<Authenticator>, rate: Arc<RateLimiter>) -> Self {
        AuthInterceptor { auth, rate }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let header = match req.metadata().get("authorization") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| Status::unauthenticated("malformed authorization header"))?,
            ),
        };
        let remote = req.remote_addr().map(|a| a.ip());
        let principal = authenticate(&self.auth, &self.rate, header, remote)?;
        req.extensions_mut().insert(principal);
        Ok(req)
    }
}

/// Who is calling, from the `authorization` header (or a local admin when `auth` has no token
/// source), after the caller's request-rate check. Shared by the gRPC interceptor and the
/// HTTP API, so both accept and refuse exactly the same callers.
pub fn authenticate(
    auth: &Authenticator,
    rate: &RateLimiter,
    authorization: Option<&str>,
    remote: Option<std::net::IpAddr>,
) -> Result<Principal, Status> {
    let principal = if auth.is_enabled() {
        let value = authorization.ok_or_else(|| {
            Status::unauthenticated("missing bearer token: send `authorization: Bearer <token>`")
        })?;
        auth.authenticate(value).map_err(|e| Status::unauthenticated(e.to_string()))?
    } else {
        Principal::unauthenticated_local()
    };
    let key = if auth.is_enabled() {
        principal.rate_key().to_string()
    } else {
        remote.map(|ip| ip.to_string()).unwrap_or_else(|| "local".into())
    };
    rate.check(&key).map_err(|e| Status::resource_exhausted(e.to_string()))?;
    Ok(principal)
}

/// The caller of a request (set by [`AuthInterceptor`]).
pub fn principal<T>(req: &Request<T>) -> Result<&Principal, Status> {
    req.extensions()
        .get::<Principal>()
        .ok_or_else(|| Status::internal("request reached a handler without authentication"))
}

/// Checks that the caller may act on `tenant` with `role`.
pub fn authorize<T>(req: &Request<T>, tenant: &TenantId, role: Role) -> Result<(), Status> {
    check(principal(req)?, tenant, role)
}

/// [`authorize`] on a principal.
pub fn check(p: &Principal, tenant: &TenantId, role: Role) -> Result<(), Status> {
    if !p.tenants.contains(tenant) {
        return Err(Status::permission_denied(format!(
            "token {:?} has no access to tenant {tenant}",
            p.subject
        )));
    }
    if p.role < role {
        return Err(Status::permission_denied(format!(
            "token {:?} has role {}, this call needs {role}",
            p.subject, p.role
        )));
    }
    Ok(())
}

/// Checks that the caller has `role` on every tenant.
pub fn authorize_all<T>(req: &Request<T>, role: Role) -> Result<(), Status> {
    let p = principal(req)?;
    if !p.allows_all_tenants(role) {
        return Err(Status::permission_denied(format!(
            "token {:?} cannot act on all tenants with role {role}; pass a tenant_id or use an admin token for \"*\"",
            p.subject
        )));
    }
    Ok(())
}
