//! Authentication on the Topics service (health and reflection are separate services and stay
//! open): the interceptor checks the bearer token and the caller's request rate, and stores the
//! [`Principal`] in the request; each handler then calls [`authorize`] with the tenant and the
//! role its RPC needs.
//!
//! Roles per RPC: `read` = Transform, GetTopTopics, GetModel, ListModels (one tenant),
//! ListMergedWindows; `write` = Fit, Merge; `admin` = ListModels across tenants, ActivateModel,
//! DeleteTenant.

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
        let principal = if self.auth.is_enabled() {
            let value = match req.metadata().get("authorization") {
                None => {
                    return Err(Status::unauthenticated(
                        "missing bearer token: send `authorization: Bearer <token>`",
                    ))
                }
                Some(v) => v
                    .to_str()
                    .map_err(|_| Status::unauthenticated("malformed authorization header"))?,
            };
            self.auth.authenticate(value).map_err(|e| Status::unauthenticated(e.to_string()))?
        } else {
            Principal::unauthenticated_local()
        };
        let key = if self.auth.is_enabled() {
            principal.rate_key().to_string()
        } else {
            req.remote_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "local".into())
        };
        self.rate.check(&key).map_err(|e| Status::resource_exhausted(e.to_string()))?;
        req.extensions_mut().insert(principal);
        Ok(req)
    }
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
