/*
 * MathJax 3 configuration for the rlcore site (loaded before MathJax itself).
 *
 * Two kinds of math reach the browser:
 *   - chapter pages: pymdownx.arithmatex (generic mode) wraps every formula in
 *     an element with class "arithmatex", using \( \) and \[ \] delimiters;
 *   - notebook pages: mkdocs-jupyter leaves the notebook's own $...$ and
 *     $$...$$ as text inside the rendered markdown cells.
 *
 * Instead of scanning the whole page (which would turn a stray "$5" in prose
 * into math), we typeset only the elements that hold math: the arithmatex
 * spans/divs and the notebook's markdown and LaTeX output containers. Inside
 * those, both delimiter styles are recognised, as in Jupyter.
 */
(function () {
  "use strict";

  var MATH_SELECTOR = [
    ".arithmatex",
    ".jp-RenderedMarkdown",
    ".jp-RenderedLatex",
    ".jp-MarkdownOutput",
  ].join(", ");

  var mathjaxReady = false;

  function typesetPage() {
    if (!mathjaxReady) {
      return; // startup.ready() below calls us again once MathJax has loaded
    }
    var elements = Array.prototype.slice.call(
      document.querySelectorAll(MATH_SELECTOR)
    );
    if (elements.length === 0) {
      return;
    }
    var MJ = window.MathJax;
    MJ.startup.promise = MJ.startup.promise
      .then(function () {
        MJ.typesetClear();
        MJ.texReset();
        return MJ.typesetPromise(elements);
      })
      .catch(function (err) {
        console.error("MathJax typesetting failed:", err);
      });
  }

  window.MathJax = {
    tex: {
      inlineMath: [
        ["\\(", "\\)"],
        ["$", "$"],
      ],
      displayMath: [
        ["\\[", "\\]"],
        ["$$", "$$"],
      ],
      processEscapes: true,
      processEnvironments: true,
      tags: "ams",
    },
    options: {
      // The elements are chosen by typesetPage(); nothing is ignored inside them.
      ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore",
      processHtmlClass: "tex2jax_process|mathjax_process",
    },
    startup: {
      typeset: false,
      ready: function () {
        window.MathJax.startup.defaultReady();
        mathjaxReady = true;
        typesetPage();
      },
    },
  };

  // Material for MkDocs emits document$ on every page load, including pages
  // reached through instant navigation, so math is typeset each time.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(typesetPage);
  } else {
    document.addEventListener("DOMContentLoaded", typesetPage);
  }
})();
