// On a narrow screen the inbox filters would fill the first screen: fold them behind their summary (the active ones
// stay visible there as chips). Without JavaScript they stay open.
(function () {
  var fold = document.querySelector("details.filters-fold");
  if (fold && window.matchMedia("(max-width: 40em)").matches) {
    fold.open = false;
  }
})();
