throw "filtered out by filterNot"
