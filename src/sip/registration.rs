//! Registering with a PBX as an extension (`[sip.register]`): REGISTER with digest
//! authentication, refreshed at 75% of the granted expiry, retried with back-off while the
//! registrar is unreachable (rsipstack's `Registration::keep_alive`).

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio_util::sync::CancellationToken;

use crate::config::SipRegister;

/// Keeps the registration up until `cancel`.
pub async fn keep_registered(
    endpoint: EndpointInnerRef,
    config: SipRegister,
    cancel: CancellationToken,
) {
    let registrar = match rsipstack::sip::Uri::try_from(config.registrar.as_str()) {
        Ok(uri) => uri,
        Err(e) => {
            tracing::error!("sip.register.registrar {:?}: {e}", config.registrar);
            return;
        }
    };
    let credential = Credential {
        username: config.user.clone(),
        password: config.password.clone(),
        realm: None,
        auth_username: config.auth_user.clone(),
    };
    let mut registration = Registration::new(endpoint, Some(credential));
    let registrar_text = config.registrar.clone();
    registration
        .keep_alive(
            registrar,
            config.expires_s,
            cancel,
            |outcome| match outcome {
                RefreshOutcome::Registered(_) => {
                    tracing::info!("registered with {registrar_text} as {}", config.user)
                }
                RefreshOutcome::Rejected(response) => tracing::warn!(
                    "{registrar_text} refused the registration: {}",
                    response.status_code
                ),
                RefreshOutcome::Failed(e) => {
                    tracing::warn!("cannot reach {registrar_text} to register: {e}")
                }
            },
        )
        .await;
}
