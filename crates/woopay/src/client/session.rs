//! The login session: one shared `core_login`, the session cookie, renewal on expiry.

use std::sync::atomic::Ordering;

use paybridge_core::http::HttpResponse;
use paybridge_core::soap::encoded::{EncString, EncodingStyle, RpcElement, XsiType};
use secrecy::{ExposeSecret, SecretString};

use super::base::{
    Client, ENCODING, LOGIN, LOGOUT, LoginInfo, Op, RpcAnswer, Session, SharedFailure, int, s, text,
};
use crate::error::{ErrorCode, WoopayError};
use crate::generated::xml_controller as wire;
use paybridge_core::CoreFailure as _;

impl Client {
    /// Log in now (`core_login`) and keep the session for later calls.
    pub async fn login(&self) -> Result<LoginInfo, WoopayError> {
        let _login = self.inner.login.lock().await;
        let info = self.do_login().await?;
        self.keep(&info)?;
        Ok(info)
    }

    /// End the current session (`core_logout`) and forget it; the next call logs in again.
    /// Returns whether there was a session to end. A session Wooppay already dropped (codes
    /// 5, 606, 607) counts as ended.
    pub async fn logout(&self) -> Result<bool, WoopayError> {
        let Some(session) = self.slot().clone() else {
            return Ok(false);
        };
        let req = wire::CoreLogoutRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            core_logout_request: Some(wire::CoreLogoutRequest {
                xsi_type: Some(XsiType::from_static("ns1:CoreLogoutRequest")),
                xsi_nil: None,
            }),
        };
        let (answer, _) = self
            .post::<wire::CoreLogoutRpcResponse>(
                &LOGOUT,
                self.envelope(&req),
                Some(&session.cookie),
                "",
            )
            .await?;
        self.invalidate(session.generation);
        let (_, code) = Self::answer(&LOGOUT, answer)?;
        if code.code() == 0 || code.is_session_error() {
            Ok(true)
        } else {
            Err(WoopayError::Api(code))
        }
    }

    /// Make `info`'s session the current one.
    fn keep(&self, info: &LoginInfo) -> Result<Session, WoopayError> {
        let session = Session::new(
            &info.session,
            self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1,
        )?;
        *self.slot() = Some(session.clone());
        Ok(session)
    }

    /// The session slot (a panic elsewhere while it was held leaves a valid `Option`).
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.inner
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn do_login(&self) -> Result<LoginInfo, WoopayError> {
        self.inner.logins.fetch_add(1, Ordering::Relaxed);
        let req = wire::CoreLoginRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            core_login_request: Some(wire::CoreLoginRequest {
                xsi_type: Some(XsiType::from_static("ns1:CoreLoginRequest")),
                xsi_nil: None,
                username: s(&self.inner.config.username),
                password: s(self.inner.config.password.expose_secret()),
                captcha: Some(EncString::empty()),
            }),
        };
        let (answer, _) = self
            .post::<wire::CoreLoginRpcResponse>(&LOGIN, self.envelope(&req), None, "")
            .await?;
        let (data, code) = Self::answer(&LOGIN, answer)?;
        if code != ErrorCode::from_code(0) {
            return Err(WoopayError::Api(code));
        }
        let data = data
            .filter(|d| d.xsi_nil.is_none())
            .ok_or_else(|| WoopayError::decode("core_login: no response"))?;
        let session = text(data.session.as_ref())?
            .ok_or_else(|| WoopayError::decode("core_login: no session"))?;
        Ok(LoginInfo {
            session: SecretString::from(session),
            user_id: int(data.id.as_ref())?,
            username: text(data.username.as_ref())?,
            login: text(data.login.as_ref())?,
            user_type: int(data.type_field.as_ref())?,
            roles: data
                .roles
                .map(|r| {
                    r.items
                        .iter()
                        .filter_map(|i| i.get().ok().flatten())
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The current session, logging in first when there is none. Callers that arrive during
    /// a login wait for it instead of logging in themselves.
    async fn session(&self) -> Result<Session, WoopayError> {
        let current = self.slot().clone();
        match current {
            Some(s) => Ok(s),
            // Boxed: the login path (a whole call of its own) stays out of every call's future
            // and out of its code, which only ever runs it once per session.
            None => Box::pin(self.log_in()).await,
        }
    }

    /// Log in once for every caller that is waiting: a caller that arrived while a login was
    /// under way gets that login's result, success or failure; only a caller that arrives
    /// after a failed login tries again.
    async fn log_in(&self) -> Result<Session, WoopayError> {
        let arrived_after = self.inner.logins_finished.load(Ordering::Acquire);
        let mut last = self.inner.login.lock().await;
        if let Some(s) = self.slot().clone() {
            return Ok(s);
        }
        if last.number > arrived_after
            && let Some(failure) = &last.failure
        {
            return Err(failure.error());
        }
        let result = self.do_login().await.and_then(|info| self.keep(&info));
        last.number = self.inner.logins_finished.fetch_add(1, Ordering::AcqRel) + 1;
        last.failure = result.as_ref().err().map(SharedFailure::of);
        result
    }

    /// Forget `generation`'s session, unless another caller already replaced it.
    fn invalidate(&self, generation: u64) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|s| s.generation == generation) {
            *slot = None;
        }
    }

    /// An authenticated call: renew the session once on codes 5, 606, 607 (the answer says
    /// the request was refused, so sending it again is safe). `reference` names the request
    /// in an [`paybridge_core::Error::OutcomeUnknown`].
    pub(super) async fn authed<A: RpcAnswer>(
        &self,
        op: &Op,
        request: &impl RpcElement,
        reference: &str,
    ) -> Result<Option<A::Data>, WoopayError> {
        self.authed_answered::<A>(op, request, reference)
            .await
            .map(|(data, _)| data)
    }

    /// [`authed`](Self::authed), handing back the HTTP answer the data was read from.
    pub(super) async fn authed_answered<A: RpcAnswer>(
        &self,
        op: &Op,
        request: &impl RpcElement,
        reference: &str,
    ) -> Result<(Option<A::Data>, HttpResponse), WoopayError> {
        let envelope = self.envelope(request);
        let mut renewed = false;
        loop {
            let session = self.session().await?;
            let (answer, response) = self
                .post::<A>(op, envelope.clone(), Some(&session.cookie), reference)
                .await?;
            let (data, code) = Self::answer(op, answer)?;
            match code.code() {
                0 => return Ok((data, response)),
                _ if code.is_session_error() && !renewed => {
                    tracing::debug!(
                        operation = op.name,
                        code = code.code(),
                        "session expired, logging in again"
                    );
                    self.invalidate(session.generation);
                    renewed = true;
                }
                _ => return Err(WoopayError::Api(code)),
            }
        }
    }
}
