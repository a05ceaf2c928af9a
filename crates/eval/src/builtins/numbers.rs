//! Arithmetic and comparison builtins.

use dendrite_syntax::Span;
use dendrite_syntax::ir::BinOp;

use super::arg_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "add", arity: 2, func: add },
    PrimOp { name: "sub", arity: 2, func: sub },
    PrimOp { name: "mul", arity: 2, func: mul },
    PrimOp { name: "div", arity: 2, func: div },
    PrimOp { name: "lessThan", arity: 2, func: less_than },
    PrimOp { name: "bitAnd", arity: 2, func: bit_and },
    PrimOp { name: "bitOr", arity: 2, func: bit_or },
    PrimOp { name: "bitXor", arity: 2, func: bit_xor },
    PrimOp { name: "ceil", arity: 1, func: ceil },
    PrimOp { name: "floor", arity: 1, func: floor },
];

fn number(ev: &mut Evaluator, v: &Value, ctx: &str) -> EvalResult<Value> {
    match ev.force(v)? {
        n @ (Value::Int(_) | Value::Float(_)) => Ok(n),
        other => Err(ev.type_error("an integer", &other).context(ctx.to_string(), None)),
    }
}

fn binary(ev: &mut Evaluator, args: &[Value], span: Span, op: BinOp, what: &str) -> EvalResult<Value> {
    let a = number(ev, &args[0], &format!("while evaluating the first argument of the {what}"))?;
    let b = number(ev, &args[1], &format!("while evaluating the second argument of the {what}"))?;
    match op {
        BinOp::Add => ev.add(&a, &b, span),
        _ => ev.arith_values(op, &a, &b, span),
    }
}

fn add(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    binary(ev, args, span, BinOp::Add, "addition")
}
fn sub(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    binary(ev, args, span, BinOp::Sub, "subtraction")
}
fn mul(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    binary(ev, args, span, BinOp::Mul, "multiplication")
}
fn div(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    binary(ev, args, span, BinOp::Div, "division")
}

fn less_than(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    Ok(Value::Bool(ev.less_than(&a, &b, span)?))
}

fn int_pair(ev: &mut Evaluator, args: &[Value], name: &str) -> EvalResult<(i64, i64)> {
    let a = ev.expect_int(&args[0]).map_err(|e| e.context(arg_ctx("first", name), None))?;
    let b = ev.expect_int(&args[1]).map_err(|e| e.context(arg_ctx("second", name), None))?;
    Ok((a, b))
}

fn bit_and(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let (a, b) = int_pair(ev, args, "bitAnd")?;
    Ok(Value::Int(a & b))
}
fn bit_or(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let (a, b) = int_pair(ev, args, "bitOr")?;
    Ok(Value::Int(a | b))
}
fn bit_xor(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let (a, b) = int_pair(ev, args, "bitXor")?;
    Ok(Value::Int(a ^ b))
}

fn rounding(ev: &mut Evaluator, v: &Value, name: &str, f: fn(f64) -> f64) -> EvalResult<Value> {
    match ev.force(v)? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(x) => {
            let r = f(x);
            if !r.is_finite() || r < -(2f64.powi(63)) || r >= 2f64.powi(63) {
                return Err(EvalError::new(
                    ErrorKind::Eval,
                    format!("float {x} cannot be converted to an integer without overflow"),
                )
                .context(format!("while evaluating the first argument passed to builtins.{name}"), None));
            }
            Ok(Value::Int(r as i64))
        }
        other => Err(ev.type_error("a float", &other).context(arg_ctx("first", name), None)),
    }
}

fn ceil(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    rounding(ev, &args[0], "ceil", f64::ceil)
}
fn floor(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    rounding(ev, &args[0], "floor", f64::floor)
}
