//! dendrite's native module system (see `docs/design/native-modules.md`).
//!
//! Each part replaces the exports of one nixpkgs `lib` file with native
//! implementations that produce the same values: [`types`] for
//! `lib/types.nix`, [`options`] for `lib/options.nix`, [`eval_modules`] and
//! [`props`] for `lib/modules.nix`. They reach each other through the final
//! `lib` fixpoint, exactly as the Nix files do, so any mix of native and
//! interpreted parts works.

use std::path::Path;
use std::rc::Rc;

use dendrite_eval::value::{Attrs, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::Span;

pub mod eval_modules;
pub mod hot;
pub mod lenient;
pub mod options;
pub mod props;
pub mod record;
pub mod share;
pub mod types;

/// Which nixpkgs `lib` file a path is, if it is one the native module
/// system replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibFile {
    /// `lib/modules.nix`
    Modules,
    /// `lib/options.nix`
    Options,
    /// `lib/types.nix`
    Types,
    /// `lib/strings.nix` (a few hot functions, see [`hot`])
    Strings,
    /// `lib/lists.nix` (`flatten`, see [`hot`])
    Lists,
}

/// Recognises nixpkgs' `lib/{modules,options,types,strings,lists}.nix` by
/// name and siblings.
pub fn classify(path: &Path) -> Option<LibFile> {
    let file = match path.file_name()?.to_str()? {
        "modules.nix" => LibFile::Modules,
        "options.nix" => LibFile::Options,
        "types.nix" => LibFile::Types,
        "strings.nix" => LibFile::Strings,
        "lists.nix" => LibFile::Lists,
        _ => return None,
    };
    let dir = path.parent()?;
    let siblings = ["default.nix", "modules.nix", "options.nix", "types.nix", "fixed-points.nix", "attrsets.nix"];
    siblings.iter().all(|s| dir.join(s).is_file()).then_some(file)
}

/// Installs the import hook that lays native implementations over
/// nixpkgs' own files when `settings.native_modules` is on.
pub fn install(ev: &mut Evaluator) {
    if !ev.settings.native_modules {
        return;
    }
    ev.set_import_hook(Rc::new(|_: &mut Evaluator, path: &Path, value: Value| match classify(path) {
        Some(kind) => Ok(overlay_file(kind, value)),
        None => Ok(value),
    }));
}

/// The replacement of a `{ lib }: { ... }` file: the same function, whose
/// result has the native exports laid over the interpreted ones.
fn overlay_file(kind: LibFile, original: Value) -> Value {
    dendrite_eval::native::native(
        "dendrite-native-lib-file",
        1,
        move |ev: &mut Evaluator, args: &[Value], span: Span| {
            let interpreted = ev.call(original.clone(), args[0].clone(), span)?;
            let lib = ev.select_str(&args[0], "lib", span)?;
            let natives = match kind {
                LibFile::Modules => {
                    let mut n = props::exports(ev, &lib);
                    n.extend(eval_modules::exports(ev, &lib));
                    n
                }
                LibFile::Options => options::exports(ev, &lib),
                // `types.nix` returns one flat set (`lib.types` is all of it);
                // its own `types` attribute refers back to `lib.types`.
                LibFile::Types => types::native_exports(ev, &lib),
                LibFile::Strings => hot::strings(&ev.expect_attrs(&interpreted)?),
                LibFile::Lists => hot::lists(&ev.expect_attrs(&interpreted)?),
            };
            overlay(ev, interpreted, natives)
        },
    )
}

fn overlay(ev: &mut Evaluator, base: Value, natives: Vec<dendrite_eval::value::Attr>) -> EvalResult<Value> {
    if natives.is_empty() {
        return Ok(base);
    }
    let base = ev.expect_attrs(&base)?;
    Ok(Value::Attrs(Rc::new(base.update(&Attrs::from_unsorted(natives)))))
}
