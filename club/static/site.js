// Progressive enhancement only: every control works as a plain form without this file.
"use strict";
