//! `verify_identity`: an order number with the ZIP code or e-mail address on it.

use super::{Applied, Ctx, ToolError};
use crate::dialog::reply::Reply;
use crate::store::Outcome;

/// Verifies the caller as the customer of `order_id` when the ZIP code (the customer's or the
/// order's delivery ZIP) or the e-mail matches. A wrong detail and an unknown order get the
/// same answer, so a caller cannot probe which order numbers exist.
pub(super) async fn verify(
    ctx: &Ctx<'_>,
    order_id: &str,
    zip: Option<&str>,
    email: Option<&str>,
) -> Result<Applied, ToolError> {
    let refused = |detail: &str| Applied {
        reply: Reply::VerificationFailed,
        outcome: Outcome::Denied,
        detail: detail.to_string(),
        verified: None,
        transfer: false,
    };
    let Some(detail) = ctx.store.order(order_id).await? else {
        return Ok(refused("no such order"));
    };
    let Some(customer) = ctx.store.customer(&detail.order.customer_id).await? else {
        return Ok(refused("order without customer"));
    };
    let zip_ok = zip.is_some_and(|z| {
        let z = z.trim();
        z == customer.zip || z == detail.order.ship_zip
    });
    let email_ok = email.is_some_and(|e| e.trim().eq_ignore_ascii_case(&customer.email));
    if !(zip_ok || email_ok) {
        return Ok(refused("details do not match"));
    }
    Ok(Applied {
        reply: Reply::Verified {
            first_name: customer.name.clone(),
        },
        outcome: Outcome::Ok,
        detail: format!(
            "verified as {} by {}",
            customer.id,
            if zip_ok { "zip" } else { "email" }
        ),
        verified: Some(customer),
        transfer: false,
    })
}
