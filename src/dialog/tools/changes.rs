//! `cancel_order` and `change_shipping_address`: only before the order ships.

use super::{Applied, Check, Ctx, Done, ToolError, item_lines, order};
use crate::dialog::reply::Reply;
use crate::store::StoreError;

pub(super) async fn check_cancel(ctx: &Ctx<'_>, order_id: &str) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    let id = order_id.to_string();
    Ok(match detail.order.status.as_str() {
        "placed" => Check::Confirm(Reply::ConfirmCancel {
            order_id: id,
            items: item_lines(ctx, &detail).await?,
            total_cents: detail.total_cents(),
        }),
        // Already done: saying so is the idempotent answer.
        "cancelled" => Check::Ready(Done::Ran(Reply::AlreadyCancelled { order_id: id })),
        status => Check::Refused {
            reply: Reply::TooLateToCancel {
                order_id: id,
                status: status.to_string(),
            },
            detail: format!("order is {status}"),
        },
    })
}

pub(super) async fn cancel(ctx: &Ctx<'_>, order_id: &str) -> Result<Applied, ToolError> {
    let detail = order(ctx, order_id).await?;
    let refund = ctx
        .store
        .cancel_order_with_refund(order_id, detail.total_cents(), ctx.now)
        .await;
    match refund {
        Ok(refund) => Ok(Applied::ok(
            Reply::Cancelled {
                order_id: order_id.to_string(),
                refund_cents: refund.row.amount_cents,
            },
            if refund.created {
                format!("cancelled; refund {} pending", refund.row.id)
            } else {
                "already cancelled".to_string()
            },
        )),
        // It changed between the read-back and the yes: say what it is now.
        Err(StoreError::Conflict { detail: why, .. }) => {
            let now = order(ctx, order_id).await?.order.status;
            let reply = if now == "cancelled" {
                Reply::AlreadyCancelled {
                    order_id: order_id.to_string(),
                }
            } else {
                Reply::TooLateToCancel {
                    order_id: order_id.to_string(),
                    status: now,
                }
            };
            Ok(Applied {
                reply,
                outcome: crate::store::Outcome::Denied,
                detail: why,
                verified: None,
                transfer: false,
            })
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn check_address(
    ctx: &Ctx<'_>,
    order_id: &str,
    street: &str,
    city: &str,
    zip: &str,
) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    if detail.order.status != "placed" {
        return Ok(Check::Refused {
            reply: Reply::TooLateForAddress {
                order_id: order_id.to_string(),
            },
            detail: format!("order is {}", detail.order.status),
        });
    }
    Ok(Check::Confirm(Reply::ConfirmAddress {
        order_id: order_id.to_string(),
        street: street.to_string(),
        city: city.to_string(),
        zip: zip.to_string(),
    }))
}

pub(super) async fn change_address(
    ctx: &Ctx<'_>,
    order_id: &str,
    street: &str,
    city: &str,
    zip: &str,
) -> Result<Applied, ToolError> {
    match ctx
        .store
        .change_shipping_address(order_id, street, city, zip)
        .await
    {
        Ok(_) => Ok(Applied::ok(
            Reply::AddressChanged {
                order_id: order_id.to_string(),
                street: street.to_string(),
                city: city.to_string(),
                zip: zip.to_string(),
            },
            "address changed",
        )),
        Err(StoreError::Conflict { detail, .. }) => Ok(Applied {
            reply: Reply::TooLateForAddress {
                order_id: order_id.to_string(),
            },
            outcome: crate::store::Outcome::Denied,
            detail,
            verified: None,
            transfer: false,
        }),
        Err(e) => Err(e.into()),
    }
}
