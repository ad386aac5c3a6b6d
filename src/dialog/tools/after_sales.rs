//! `start_return`, `get_refund_status` and `request_exchange`: within the return window of a
//! delivered order, never twice for the same item.

use super::{
    Applied, Check, Ctx, Done, RETURN_WINDOW_DAYS, ToolError, delivered_day, order, product_name,
};
use crate::dialog::reply::{ItemLine, Reply};
use crate::store::{OrderDetail, OrderItem, Outcome, StoreError, date_of_day};

fn item<'a>(detail: &'a OrderDetail, sku: &str) -> Option<&'a OrderItem> {
    detail
        .items
        .iter()
        .find(|i| i.sku.eq_ignore_ascii_case(sku))
}

/// Refused unless the order was delivered within the return window.
fn window(ctx: &Ctx<'_>, detail: &OrderDetail) -> Option<Check> {
    let order_id = detail.order.id.clone();
    match delivered_day(detail) {
        None => Some(Check::Refused {
            reply: Reply::NotDelivered { order_id },
            detail: format!("order is {}", detail.order.status),
        }),
        Some(day) if ctx.today > day + RETURN_WINDOW_DAYS => Some(Check::Refused {
            reply: Reply::ReturnWindowClosed {
                order_id,
                closed_on: date_of_day(day + RETURN_WINDOW_DAYS),
            },
            detail: format!(
                "return window closed {}",
                date_of_day(day + RETURN_WINDOW_DAYS)
            ),
        }),
        Some(_) => None,
    }
}

fn not_on_order(order_id: &str, sku: &str) -> Check {
    Check::Refused {
        reply: Reply::NotOnOrder {
            order_id: order_id.to_string(),
        },
        detail: format!("{sku} is not on the order"),
    }
}

pub(super) async fn check_return(
    ctx: &Ctx<'_>,
    order_id: &str,
    sku: &str,
) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    let Some(line) = item(&detail, sku) else {
        return Ok(not_on_order(order_id, sku));
    };
    let name = product_name(ctx, &line.sku).await?;
    let returns = ctx.store.returns_of_order(order_id).await?;
    if let Some(r) = returns.iter().find(|r| r.sku == line.sku) {
        return Ok(Check::Ready(Done::Ran(Reply::ReturnAlreadyOpen {
            order_id: order_id.to_string(),
            item: name,
            return_id: r.id.clone(),
        })));
    }
    let exchanges = ctx.store.exchanges_of_order(order_id).await?;
    if exchanges.iter().any(|x| x.sku == line.sku) {
        return Ok(Check::Refused {
            reply: Reply::AlreadyExchanged { item: name },
            detail: "item already exchanged".into(),
        });
    }
    if let Some(refused) = window(ctx, &detail) {
        return Ok(refused);
    }
    Ok(Check::Confirm(Reply::ConfirmReturn {
        order_id: order_id.to_string(),
        item: ItemLine {
            qty: line.qty,
            name,
            variant: line.variant.clone(),
        },
        refund_cents: line.qty * line.price_cents,
    }))
}

pub(super) async fn start_return(
    ctx: &Ctx<'_>,
    order_id: &str,
    sku: &str,
    reason: Option<&str>,
) -> Result<Applied, ToolError> {
    let detail = order(ctx, order_id).await?;
    let line = item(&detail, sku).ok_or_else(|| {
        ToolError::Store(StoreError::NotFound {
            what: "item",
            key: format!("{sku} on order {order_id}"),
        })
    })?;
    let started = ctx
        .store
        .start_return_with_refund(
            order_id,
            &line.sku,
            reason.unwrap_or("not given"),
            line.qty * line.price_cents,
            ctx.now,
        )
        .await?;
    let (ret, refund) = &started.row;
    let reply = if started.created {
        Reply::ReturnStarted {
            return_id: ret.id.clone(),
            refund_cents: refund.amount_cents,
        }
    } else {
        Reply::ReturnAlreadyOpen {
            order_id: order_id.to_string(),
            item: product_name(ctx, &line.sku).await?,
            return_id: ret.id.clone(),
        }
    };
    let what = if started.created {
        "started"
    } else {
        "already open"
    };
    Ok(Applied::ok(
        reply,
        format!("return {} {what}; refund {}", ret.id, refund.id),
    ))
}

pub(super) async fn refund_status(ctx: &Ctx<'_>, order_id: &str) -> Result<Check, ToolError> {
    order(ctx, order_id).await?;
    let refunds = ctx.store.refund_for_order(order_id).await?;
    let reply = match refunds.last() {
        None => Reply::NoRefund {
            order_id: order_id.to_string(),
        },
        Some(last) => Reply::RefundStatus {
            order_id: order_id.to_string(),
            amount_cents: last.amount_cents,
            state: last.state.clone(),
        },
    };
    Ok(Check::Ready(Done::Ran(reply)))
}

/// The product variant the caller named, as the catalogue spells it.
async fn variant_named(
    ctx: &Ctx<'_>,
    sku: &str,
    wanted: &str,
) -> Result<(Option<String>, Vec<String>), ToolError> {
    let variants = ctx
        .store
        .product(sku)
        .await?
        .map(|p| p.variant_list())
        .unwrap_or_default();
    let spellings = variant_spellings(wanted);
    let found = variants
        .iter()
        .find(|v| spellings.iter().any(|s| v.eq_ignore_ascii_case(s)))
        .cloned();
    Ok((found, variants))
}

/// Colours and sizes as a Mandarin caller names them, in the catalogue's English words.
const MANDARIN_VARIANTS: [(&str, &str); 17] = [
    ("白", "white"),
    ("黑", "black"),
    ("红", "red"),
    ("蓝", "blue"),
    ("绿", "green"),
    ("灰", "grey"),
    ("灰", "gray"),
    ("粉", "pink"),
    ("黄", "yellow"),
    ("紫", "purple"),
    ("棕", "brown"),
    ("银", "silver"),
    ("金", "gold"),
    ("小", "S"),
    ("中", "M"),
    ("大", "L"),
    ("加大", "XL"),
];

/// Whether Mandarin `text` names `variant`: by its own spelling between Chinese characters
/// (换成L码) or by its Mandarin name (白色的 for white, 大号 for L).
pub(crate) fn said_in_mandarin(text: &str, variant: &str) -> bool {
    let lower = text.to_lowercase();
    let spelled = variant.to_lowercase();
    let latin = !spelled.is_empty()
        && lower.match_indices(&spelled).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + spelled.len()..].chars().next();
            let apart = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
            let by_chinese = |c: Option<char>| c.is_some_and(|c| !c.is_ascii());
            apart(before) && apart(after) && (by_chinese(before) || by_chinese(after))
        });
    // Longer names first: 加大号 is XL, and the 大号 inside it is not also L.
    let mut rest = text.to_string();
    let mut names: Vec<&(&str, &str)> = MANDARIN_VARIANTS.iter().collect();
    names.sort_by_key(|(zh, _)| std::cmp::Reverse(zh.chars().count()));
    for (zh, en) in names {
        let forms: Vec<String> = ["色", "号", "码"]
            .iter()
            .map(|measure| format!("{zh}{measure}"))
            .chain((zh.chars().count() > 1).then(|| zh.to_string()))
            .collect();
        if let Some(form) = forms.iter().find(|f| rest.contains(f.as_str())) {
            if en.eq_ignore_ascii_case(variant) {
                return true;
            }
            rest = rest.replace(form.as_str(), " ");
        }
    }
    latin
}

/// The ways `wanted` may be spelled in the catalogue: as said, without the measure words a
/// Mandarin caller puts after a colour or size (白色的, L码, 大号), and in English.
fn variant_spellings(wanted: &str) -> Vec<String> {
    let said = wanted.trim();
    let mut bare = said;
    while let Some(shorter) = ["的", "款", "色", "码", "号"]
        .iter()
        .find_map(|suffix| bare.strip_suffix(suffix))
    {
        bare = shorter;
    }
    let mut spellings = vec![said.to_string(), bare.to_string()];
    spellings.extend(
        MANDARIN_VARIANTS
            .iter()
            .filter(|(zh, _)| *zh == bare)
            .map(|(_, en)| en.to_string()),
    );
    spellings
}

pub(super) async fn check_exchange(
    ctx: &Ctx<'_>,
    order_id: &str,
    sku: &str,
    wanted: &str,
) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    let Some(line) = item(&detail, sku) else {
        return Ok(not_on_order(order_id, sku));
    };
    let name = product_name(ctx, &line.sku).await?;
    let (variant, variants) = variant_named(ctx, &line.sku, wanted).await?;
    let Some(variant) = variant else {
        return Ok(Check::Refused {
            reply: Reply::UnknownVariant {
                item: name,
                variants,
            },
            detail: format!("{wanted:?} is not a variant of {}", line.sku),
        });
    };
    if variant == line.variant {
        return Ok(Check::Refused {
            reply: Reply::SameVariant { variant },
            detail: "same variant".into(),
        });
    }
    let exchanges = ctx.store.exchanges_of_order(order_id).await?;
    if let Some(x) = exchanges.iter().find(|x| x.sku == line.sku) {
        return Ok(Check::Ready(Done::Ran(Reply::ExchangeAlreadyOpen {
            exchange_id: x.id.clone(),
            to: x.to_variant.clone(),
        })));
    }
    // A refund and a replacement for the same item: never both.
    let returns = ctx.store.returns_of_order(order_id).await?;
    if let Some(r) = returns.iter().find(|r| r.sku == line.sku) {
        return Ok(Check::Refused {
            reply: Reply::ReturnAlreadyOpen {
                order_id: order_id.to_string(),
                item: name,
                return_id: r.id.clone(),
            },
            detail: format!("item is being returned ({})", r.id),
        });
    }
    if let Some(refused) = window(ctx, &detail) {
        return Ok(refused);
    }
    let stock = ctx.store.stock_of(&line.sku).await?;
    let in_stock = |v: &str| stock.iter().any(|s| s.variant == v && s.in_stock > 0);
    if !in_stock(&variant) {
        let available = stock
            .iter()
            .filter(|s| s.in_stock > 0 && s.variant != line.variant)
            .map(|s| s.variant.clone())
            .collect();
        return Ok(Check::Refused {
            reply: Reply::OutOfStock { variant, available },
            detail: "out of stock".into(),
        });
    }
    Ok(Check::Confirm(Reply::ConfirmExchange {
        order_id: order_id.to_string(),
        item: name,
        from: line.variant.clone(),
        to: variant,
    }))
}

pub(super) async fn exchange(
    ctx: &Ctx<'_>,
    order_id: &str,
    sku: &str,
    wanted: &str,
) -> Result<Applied, ToolError> {
    let (variant, _) = variant_named(ctx, sku, wanted).await?;
    let variant = variant.unwrap_or_else(|| wanted.to_string());
    match ctx
        .store
        .request_exchange(order_id, sku, &variant, ctx.now)
        .await
    {
        Ok(x) if x.created => Ok(Applied::ok(
            Reply::ExchangeArranged {
                exchange_id: x.row.id.clone(),
                to: x.row.to_variant.clone(),
            },
            format!("exchange {} requested", x.row.id),
        )),
        Ok(x) => Ok(Applied::ok(
            Reply::ExchangeAlreadyOpen {
                exchange_id: x.row.id.clone(),
                to: x.row.to_variant.clone(),
            },
            format!("exchange {} already open", x.row.id),
        )),
        // Sold out between the read-back and the yes.
        Err(StoreError::Conflict { detail, .. }) => Ok(Applied {
            reply: Reply::OutOfStock {
                variant,
                available: Vec::new(),
            },
            outcome: Outcome::Denied,
            detail,
            verified: None,
            transfer: false,
        }),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandarin_colours_and_sizes_are_the_catalogues_words() {
        for (said, want) in [
            ("白色的", "white"),
            ("黑色", "black"),
            ("L码", "L"),
            ("大号", "L"),
            ("white", "white"),
        ] {
            assert!(variant_spellings(said).iter().any(|s| s == want), "{said}");
        }
        assert!(!variant_spellings("白色").iter().any(|s| s == "black"));
    }

    #[test]
    fn mandarin_text_names_a_variant() {
        assert!(said_in_mandarin("能换成L码吗？", "L"));
        assert!(said_in_mandarin("换成白色的", "white"));
        assert!(said_in_mandarin("换成大号", "L"));
        assert!(!said_in_mandarin("换成XL码", "L"));
        assert!(!said_in_mandarin("换成白色的", "black"));
        assert!(!said_in_mandarin("I'd like L please", "L"));
        assert!(said_in_mandarin("换成加大号", "XL"));
        assert!(!said_in_mandarin("换成加大号", "L"));
    }
}
