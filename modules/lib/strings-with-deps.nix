# Ordering shell snippets by their dependencies (activation scripts).
{ lib }:
let
  b = builtins;
in
{
  # The texts of the entries named in `names` (or given inline as entries),
  # each after the texts of its dependencies, every named entry once.
  textClosureList =
    predefined: names:
    let
      # Returns { result; done; }: the texts in order and the names seen.
      visit =
        done: todo:
        if todo == [ ] then
          {
            result = [ ];
            inherit done;
          }
        else
          let
            entry = b.head todo;
            rest = b.tail todo;
          in
          if b.isAttrs entry then
            let
              deps = visit done entry.deps;
              after = visit deps.done rest;
            in
            {
              result = deps.result ++ [ entry.text ] ++ after.result;
              inherit (after) done;
            }
          else if done ? ${entry} then
            visit done rest
          else
            visit (done // { ${entry} = 1; }) ([ predefined.${entry} ] ++ rest);
    in
    (visit { } names).result;

  textClosureMap =
    f: predefined: names:
    b.concatStringsSep "\n" (map f (lib.stringsWithDeps.textClosureList predefined names));

  noDepEntry = text: {
    inherit text;
    deps = [ ];
  };
  fullDepEntry = text: deps: { inherit text deps; };
  packEntry = deps: {
    inherit deps;
    text = "";
  };
  stringAfter = deps: text: { inherit text deps; };
}
