//! `file_complaint`, `recommend_products`, `transfer_to_human` and `record_survey`.

use super::{Applied, Ctx, ToolError};
use crate::dialog::reply::Reply;
use crate::store::{NewTicket, Outcome};

/// Opens a complaint ticket, or finds the one this call already opened for the same order.
pub(super) async fn complaint(
    ctx: &Ctx<'_>,
    order_id: Option<&str>,
    summary: &str,
) -> Result<Applied, ToolError> {
    let existing = ctx.store.tickets_of_call(ctx.call_id).await?;
    if let Some(t) = existing
        .iter()
        .find(|t| t.kind == "complaint" && t.order_id.as_deref() == order_id)
    {
        return Ok(Applied::ok(
            Reply::ComplaintFiled {
                ticket: t.id.clone(),
            },
            format!("complaint {} already open", t.id),
        ));
    }
    let ticket = ctx
        .store
        .insert_ticket(&NewTicket {
            kind: "complaint",
            call_id: Some(ctx.call_id),
            customer_id: ctx.customer.map(|c| c.id.as_str()),
            order_id,
            summary,
            created: ctx.now,
        })
        .await?;
    Ok(Applied::ok(
        Reply::ComplaintFiled {
            ticket: ticket.id.clone(),
        },
        format!("complaint {}", ticket.id),
    ))
}

/// Up to two products the verified caller has not bought: those most bought by customers who
/// bought the same things, then those sharing a word with the caller's purchases or the topic.
pub(super) async fn recommend(ctx: &Ctx<'_>, topic: Option<&str>) -> Result<Applied, ToolError> {
    let Some(customer) = ctx.customer else {
        return Ok(Applied {
            reply: Reply::NeedVerificationForRecommendations,
            outcome: Outcome::Denied,
            detail: "not verified".into(),
            verified: None,
            transfer: false,
        });
    };
    let products = ctx.store.products().await?;
    let mut bought = Vec::new();
    for order in ctx.store.orders_of_customer(&customer.id).await? {
        if let Some(detail) = ctx.store.order(&order.id).await? {
            bought.extend(detail.items.into_iter().map(|i| i.sku));
        }
    }
    let together = ctx.store.bought_together(&customer.id).await?;
    let words = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_string)
            .collect()
    };
    let mut liked: Vec<String> = products
        .iter()
        .filter(|p| bought.contains(&p.sku))
        .flat_map(|p| words(&p.name))
        .collect();
    let topic_words = topic.map(words).unwrap_or_default();
    liked.extend(topic_words.iter().cloned());
    let mut scored: Vec<(i64, &crate::store::Product)> = products
        .iter()
        .filter(|p| !bought.contains(&p.sku))
        .map(|p| {
            let co = together
                .iter()
                .find(|(sku, _)| *sku == p.sku)
                .map_or(0, |(_, n)| *n);
            let shared = words(&p.name).iter().filter(|w| liked.contains(w)).count() as i64;
            (co * 10 + shared, p)
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.sku.cmp(&b.1.sku)));
    let picks: Vec<(String, i64)> = scored
        .iter()
        .take(2)
        .map(|(_, p)| (p.name.clone(), p.price_cents))
        .collect();
    let detail = format!(
        "recommended {}",
        scored
            .iter()
            .take(2)
            .map(|(_, p)| p.sku.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let reply = if picks.is_empty() {
        Reply::NothingToRecommend
    } else {
        Reply::Recommendations { products: picks }
    };
    Ok(Applied::ok(reply, detail))
}

/// Opens a transfer ticket with the summary for the agent (once per call).
pub(super) async fn transfer(ctx: &Ctx<'_>, summary: &str) -> Result<Applied, ToolError> {
    let existing = ctx.store.tickets_of_call(ctx.call_id).await?;
    let ticket = match existing.into_iter().find(|t| t.kind == "transfer") {
        Some(t) => t,
        None => {
            ctx.store
                .insert_ticket(&NewTicket {
                    kind: "transfer",
                    call_id: Some(ctx.call_id),
                    customer_id: ctx.customer.map(|c| c.id.as_str()),
                    order_id: None,
                    summary,
                    created: ctx.now,
                })
                .await?
        }
    };
    Ok(Applied {
        reply: Reply::Transferring,
        outcome: Outcome::Ok,
        detail: format!("transfer ticket {}", ticket.id),
        verified: None,
        transfer: true,
    })
}

pub(super) async fn survey(ctx: &Ctx<'_>, score: i64) -> Result<Applied, ToolError> {
    let survey = ctx.store.record_survey(ctx.call_id, score, ctx.now).await?;
    Ok(Applied::ok(
        Reply::SurveyRecorded {
            score: survey.score as u8,
        },
        format!("score {}", survey.score),
    ))
}
