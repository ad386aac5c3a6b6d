//! The tool catalog: every action the assistant may take, with the JSON schema of its
//! arguments. The LLM's output is constrained to exactly one of these calls or a spoken reply
//! (see `llm::constrained`), so even a small model cannot emit an invalid call.

use serde_json::{Value, json};

/// One tool the assistant may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON schema of the `args` object.
    pub args: Value,
}

/// A six-digit order number, as the shop issues them.
fn order_id() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{6}$"})
}

fn sku() -> Value {
    json!({"type": "string", "pattern": "^[A-Z0-9]{2,8}-[A-Z0-9]{1,8}$"})
}

fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The tools of a shop's after-sales hotline.
pub fn shop_tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "verify_identity",
            description: "Check who is calling: an order number with the ZIP code or e-mail on it.",
            args: object(
                json!({
                    "order_id": order_id(),
                    "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                    "email": {"type": "string", "pattern": "^[a-z0-9._-]{1,40}@[a-z0-9.-]{1,40}\\.[a-z]{2,6}$"}
                }),
                &["order_id"],
            ),
        },
        ToolSpec {
            name: "get_order_status",
            description: "The status and items of one of the caller's orders.",
            args: object(json!({"order_id": order_id()}), &["order_id"]),
        },
        ToolSpec {
            name: "track_shipment",
            description: "Where the parcel of an order is and when it arrives.",
            args: object(json!({"order_id": order_id()}), &["order_id"]),
        },
        ToolSpec {
            name: "cancel_order",
            description: "Cancel an order that has not shipped yet.",
            args: object(
                json!({"order_id": order_id(), "reason": text(200)}),
                &["order_id"],
            ),
        },
        ToolSpec {
            name: "change_shipping_address",
            description: "Change where an order that has not shipped yet goes.",
            args: object(
                json!({
                    "order_id": order_id(),
                    "street": text(120),
                    "city": text(60),
                    "zip": {"type": "string", "pattern": "^[0-9]{5}$"}
                }),
                &["order_id", "street", "city", "zip"],
            ),
        },
        ToolSpec {
            name: "start_return",
            description: "Start a return of an item within the return window.",
            args: object(
                json!({"order_id": order_id(), "sku": sku(), "reason": text(200)}),
                &["order_id", "sku"],
            ),
        },
        ToolSpec {
            name: "get_refund_status",
            description: "The state of the refund for an order.",
            args: object(json!({"order_id": order_id()}), &["order_id"]),
        },
        ToolSpec {
            name: "request_exchange",
            description: "Exchange an item for another size or colour that is in stock.",
            args: object(
                json!({"order_id": order_id(), "sku": sku(), "variant": text(40)}),
                &["order_id", "sku", "variant"],
            ),
        },
        ToolSpec {
            name: "file_complaint",
            description: "Record a complaint for the customer-care team.",
            args: object(
                json!({"order_id": order_id(), "summary": text(300)}),
                &["summary"],
            ),
        },
        ToolSpec {
            name: "recommend_products",
            description: "Suggest products from the caller's own purchase history.",
            args: object(json!({"topic": text(80)}), &[]),
        },
        ToolSpec {
            name: "transfer_to_human",
            description: "Hand the call to a person, with a summary for them.",
            args: object(json!({"summary": text(300)}), &["summary"]),
        },
        ToolSpec {
            name: "record_survey",
            description: "Record the caller's satisfaction score from 1 to 5.",
            args: object(
                json!({"score": {"type": "integer", "minimum": 1, "maximum": 5}}),
                &["score"],
            ),
        },
    ]
}

/// The grammar of one assistant action: `{"tool": NAME, "args": {...}}` for a tool in
/// `tools`, or `{"say": TEXT}` for a spoken reply.
pub fn action_schema(tools: &[ToolSpec], max_reply_chars: usize) -> Value {
    action_schema_with_say(tools, text(max_reply_chars))
}

/// [`action_schema`] with `say` constrained to the JSON schema `say` (the dialog core uses an
/// enum of reply kinds, so that no fact is ever the model's own words).
pub fn action_schema_with_say(tools: &[ToolSpec], say: Value) -> Value {
    let mut choices: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "type": "object",
                "properties": {"tool": {"const": t.name}, "args": t.args},
                "required": ["tool", "args"],
                "additionalProperties": false
            })
        })
        .collect();
    choices.push(object(json!({ "say": say }), &["say"]));
    json!({"anyOf": choices})
}

/// A short description of the tools for the system prompt.
pub fn describe(tools: &[ToolSpec]) -> String {
    tools
        .iter()
        .map(|t| format!("- {}: {}", t.name, t.description))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_every_tool_once() {
        let tools = shop_tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
        for name in [
            "verify_identity",
            "get_order_status",
            "track_shipment",
            "cancel_order",
            "change_shipping_address",
            "start_return",
            "get_refund_status",
            "request_exchange",
            "file_complaint",
            "recommend_products",
            "transfer_to_human",
            "record_survey",
        ] {
            assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
        }
        assert_eq!(names.len(), 12);
        let schema = action_schema(&tools, 300);
        assert_eq!(schema["anyOf"].as_array().map(Vec::len), Some(13));
    }
}
