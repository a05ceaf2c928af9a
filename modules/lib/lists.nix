# Functions on lists.
{ lib }:
let
  b = builtins;
  inherit (b) length elemAt genList filter head tail;
  l = lib.lists;
in
{
  inherit (b)
    all
    any
    concatLists
    concatMap
    elem
    elemAt
    filter
    genList
    head
    isList
    length
    map
    partition
    sort
    tail
    ;

  singleton = x: [ x ];
  forEach = xs: f: map f xs;

  # Right fold; `op` receives the rest of the fold as an unevaluated value.
  foldr =
    op: nul: list:
    let
      n = length list;
      from = i: if i == n then nul else op (elemAt list i) (from (i + 1));
    in
    from 0;
  fold = lib.trivial.warn "fold has been deprecated, use foldr instead" l.foldr;

  # Lazy left fold: the accumulator is only computed when used.
  foldl =
    op: nul: list:
    let
      upTo = i: if i < 0 then nul else op (upTo (i - 1)) (elemAt list i);
    in
    upTo (length list - 1);

  # Strict left fold that also forces the initial value.
  foldl' = op: acc: b.seq acc (b.foldl' op acc);

  imap0 = f: list: genList (i: f i (elemAt list i)) (length list);
  imap1 = f: list: genList (i: f (i + 1) (elemAt list i)) (length list);
  ifilter0 =
    pred: list:
    map (elemAt list) (filter (i: pred i (elemAt list i)) (genList (i: i) (length list)));

  flatten = x: if b.isList x then b.concatMap l.flatten x else [ x ];
  remove = x: filter (y: y != x);

  findSingle =
    pred: none: multiple: list:
    let
      hits = filter pred list;
    in
    if hits == [ ] then
      none
    else if length hits == 1 then
      head hits
    else
      multiple;

  # Stops calling `pred` at the first hit; the state is the number of
  # elements looked at so far, or `{ at = index; }` once found.
  findFirstIndex =
    pred: default: list:
    let
      state = l.foldl' (
        s: x:
        if b.isAttrs s then
          s
        else if pred x then
          { at = s; }
        else
          s + 1
      ) 0 list;
    in
    if b.isAttrs state then state.at else default;
  findFirst =
    pred: default: list:
    let
      i = l.findFirstIndex pred null list;
    in
    if i == null then default else elemAt list i;

  count = pred: l.foldl' (n: x: if pred x then n + 1 else n) 0;

  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  toList = x: if b.isList x then x else [ x ];
  range = first: last: if first > last then [ ] else genList (i: first + i) (last - first + 1);
  replicate = n: x: genList (_: x) n;

  groupBy =
    b.groupBy or (
      key:
      l.foldl' (
        acc: x:
        let
          k = key x;
        in
        acc // { ${k} = (acc.${k} or [ ]) ++ [ x ]; }
      ) { }
    );
  groupBy' =
    op: nul: key: list:
    b.mapAttrs (_: l.foldl op nul) (l.groupBy key list);

  zipListsWith =
    f: xs: ys:
    genList (i: f (elemAt xs i) (elemAt ys i)) (lib.trivial.min (length xs) (length ys));
  zipLists = l.zipListsWith (fst: snd: { inherit fst snd; });

  reverseList =
    xs:
    let
      n = length xs;
    in
    genList (i: elemAt xs (n - 1 - i)) n;

  # Depth-first search for an element with nothing `before` it, following
  # `before` edges from the head of the list.
  listDfs =
    stopOnCycles: before: list:
    let
      visit =
        current: visited: rest:
        let
          backEdges = filter (x: before x current) visited;
          split = b.partition (x: before x current) rest;
        in
        if stopOnCycles && backEdges != [ ] then
          {
            cycle = current;
            loops = backEdges;
            inherit visited rest;
          }
        else if split.right == [ ] then
          {
            minimal = current;
            inherit visited rest;
          }
        else
          visit (head split.right) ([ current ] ++ visited) (tail split.right ++ split.wrong);
    in
    visit (head list) [ ] (tail list);

  toposort =
    before: list:
    let
      search = l.listDfs true before list;
      others = l.toposort before (search.visited ++ search.rest);
    in
    if length list < 2 then
      { result = list; }
    else if search ? cycle then
      {
        cycle = l.reverseList ([ search.cycle ] ++ search.visited);
        inherit (search) loops;
      }
    else if others ? cycle then
      others
    else
      { result = [ search.minimal ] ++ others.result; };

  sortOn =
    f: list:
    map (p: elemAt p 1) (b.sort (x: y: head x < head y) (map (v: [ (f v) v ]) list));

  compareLists =
    cmp: xs: ys:
    if xs == [ ] then
      (if ys == [ ] then 0 else -1)
    else if ys == [ ] then
      1
    else
      let
        c = cmp (head xs) (head ys);
      in
      if c != 0 then c else l.compareLists cmp (tail xs) (tail ys);

  # Compares runs of digits as numbers ("a9" before "a10").
  naturalSort =
    strs:
    let
      key = s: map (part: if b.isList part then lib.strings.toInt (head part) else part) (b.split "(0|[1-9][0-9]*)" s);
      keyed = map (s: [ (key s) s ]) strs;
    in
    map (p: elemAt p 1) (b.sort (x: y: l.compareLists lib.trivial.compare (head x) (head y) < 0) keyed);

  sublist =
    start: n: list:
    let
      len = length list;
      size =
        if start >= len then
          0
        else if start + n > len then
          len - start
        else
          n;
    in
    genList (i: elemAt list (start + i)) size;
  take = n: l.sublist 0 n;
  drop = n: list: l.sublist n (length list) list;
  takeEnd = n: list: l.drop (lib.trivial.max 0 (length list - n)) list;
  dropEnd = n: list: l.take (lib.trivial.max 0 (length list - n)) list;

  hasPrefix = prefix: list: l.take (length prefix) list == prefix;
  removePrefix =
    prefix: list:
    if l.hasPrefix prefix list then
      l.drop (length prefix) list
    else
      throw "lib.lists.removePrefix: First argument is not a list prefix of the second argument";
  commonPrefix =
    xs: ys:
    let
      differs = l.zipListsWith (x: y: x != y) xs ys;
    in
    l.take (l.findFirstIndex (d: d) (length differs) differs) xs;

  last =
    list:
    assert lib.asserts.assertMsg (list != [ ]) "lists.last: list must not be empty!";
    elemAt list (length list - 1);
  init =
    list:
    assert lib.asserts.assertMsg (list != [ ]) "lists.init: list must not be empty!";
    l.take (length list - 1) list;

  crossLists = f: l.foldl (fns: args: b.concatMap (g: map g args) fns) [ f ];

  unique = l.foldl' (seen: x: if b.elem x seen then seen else seen ++ [ x ]) [ ];
  uniqueStrings = strs: b.attrNames (b.listToAttrs (map (s: { name = s; value = null; }) strs));
  allUnique = list: length (l.unique list) == length list;

  intersectLists = xs: filter (y: b.elem y xs);
  subtractLists = xs: filter (y: !(b.elem y xs));
  mutuallyExclusive = xs: ys: xs == [ ] || !(b.any (y: b.elem y xs) ys);

  concatAttrValues = set: b.concatLists (b.attrValues set);

  replaceElemAt =
    list: i: x:
    assert lib.asserts.assertMsg (i >= 0 && i < length list)
      "'lists.replaceElemAt' called with index ${toString i} on a list of size ${toString (length list)}";
    genList (j: if j == i then x else elemAt list j) (length list);
}
