# Reading the file system at evaluation time.
{ lib }:
let
  b = builtins;
  fs = lib.filesystem;
in
{
  inherit (b)
    baseNameOf
    dirOf
    hashFile
    isPath
    readDir
    readFileType
    ;

  pathType = b.readFileType;
  pathIsDirectory = p: b.pathExists p && fs.pathType p == "directory";
  pathIsRegularFile = p: b.pathExists p && fs.pathType p == "regular";

  # Every non-directory below `dir`, as paths, depth first in name order.
  listFilesRecursive =
    dir:
    b.concatLists (
      lib.attrsets.mapAttrsToList (
        name: type:
        let
          p = dir + "/${name}";
        in
        if type == "directory" then fs.listFilesRecursive p else [ p ]
      ) (b.readDir dir)
    );

  # The nearest directory, from `file` upwards, with an entry matching `pattern`.
  locateDominatingFile =
    pattern: file:
    let
      search =
        dir:
        let
          matches = b.filter (x: x != null) (map (b.match pattern) (b.attrNames (b.readDir dir)));
        in
        if matches != [ ] then
          {
            path = dir;
            inherit matches;
          }
        else if toString dir == "/" then
          null
        else
          search (dirOf dir);
      parent = dirOf file;
      isDir = toString file == "/" || (b.readDir parent).${baseNameOf file} or null == "directory";
    in
    search (if isDir then file else parent);

  haskellPathsInDir =
    root:
    b.listToAttrs (
      b.filter ({ name, value }: b.pathExists (value + "/${name}.cabal")) (
        map (name: {
          inherit name;
          value = root + "/${name}";
        }) (b.attrNames (b.readDir root))
      )
    );
}
