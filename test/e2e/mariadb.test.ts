import { defineSuite } from "./suite.js";

defineSuite("mariadb");
