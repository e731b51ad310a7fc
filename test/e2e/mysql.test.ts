import { defineSuite } from "./suite.js";

defineSuite("mysql");
